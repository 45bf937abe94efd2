//! Unit tests for the lexer beyond BuildKit's vector files.
