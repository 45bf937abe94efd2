//! A rough reader for RUN scripts: splits shell text into simple commands (at `;`, `&&`, `||`,
//! `|`, `&`, newlines and parentheses) of quote-free words, dropping comments and redirections.
//! It never expands anything; rules that use it only look for literal command names.

/// One simple command's words, quotes removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Command {
    pub words: Vec<String>,
}

impl Command {
    /// The program's base name and its arguments, past `VAR=value` prefixes and wrappers such as
    /// `sudo`, `exec`, `command` and `env`.
    pub fn program(&self) -> Option<(&str, &[String])> {
        let mut i = 0;
        while let Some(w) = self.words.get(i) {
            let is_assignment = w.split_once('=').is_some_and(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_')
            });
            let wrapper = matches!(
                w.as_str(),
                "sudo" | "exec" | "command" | "env" | "nohup" | "time"
            );
            let option_of_wrapper = i > 0 && w.starts_with('-');
            if is_assignment || wrapper || option_of_wrapper {
                i += 1;
                continue;
            }
            let name = w.rsplit('/').next().unwrap_or(w);
            return Some((name, &self.words[i + 1..]));
        }
        None
    }
}

/// Split `script` into simple commands.
pub(crate) fn simple_commands(script: &str) -> Vec<Command> {
    let mut out = Vec::new();
    let mut cur = Command::default();
    let mut word = String::new();
    let mut in_word = false;
    let mut skip_word = false;
    let mut chars = script.chars().peekable();

    let end_word = |cur: &mut Command, word: &mut String, in_word: &mut bool, skip: &mut bool| {
        if *in_word && !*skip {
            cur.words.push(std::mem::take(word));
        }
        if *in_word {
            *skip = false;
        }
        word.clear();
        *in_word = false;
    };

    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => word.push(e),
                            Some('\n') => {}
                            Some(e) => {
                                word.push('\\');
                                word.push(e);
                            }
                            None => {}
                        },
                        q => word.push(q),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(e) => {
                    in_word = true;
                    word.push(e);
                }
            },
            '#' if !in_word => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                end_word(&mut cur, &mut word, &mut in_word, &mut skip_word);
                push(&mut out, &mut cur);
            }
            '>' | '<' => {
                // A redirection: drop a leading fd number and the target word.
                if in_word && word.chars().all(|d| d.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                } else {
                    end_word(&mut cur, &mut word, &mut in_word, &mut skip_word);
                }
                let mut dup = false;
                while let Some(&n) = chars.peek() {
                    if matches!(n, '>' | '<' | '|') {
                        chars.next();
                    } else if n == '&' {
                        chars.next();
                        dup = true;
                    } else {
                        break;
                    }
                }
                if dup {
                    while chars
                        .peek()
                        .is_some_and(|d| d.is_ascii_digit() || *d == '-')
                    {
                        chars.next();
                    }
                } else {
                    skip_word = true;
                }
            }
            ';' | '&' | '|' | '\n' | '(' | ')' => {
                end_word(&mut cur, &mut word, &mut in_word, &mut skip_word);
                push(&mut out, &mut cur);
            }
            c if c.is_whitespace() => end_word(&mut cur, &mut word, &mut in_word, &mut skip_word),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut cur, &mut word, &mut in_word, &mut skip_word);
    push(&mut out, &mut cur);
    out
}

fn push(out: &mut Vec<Command>, cur: &mut Command) {
    if !cur.words.is_empty() {
        out.push(std::mem::take(cur));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<Vec<String>> {
        simple_commands(s).into_iter().map(|c| c.words).collect()
    }

    #[test]
    fn splits_on_operators_and_strips_quotes() {
        assert_eq!(
            split("apt-get update && apt-get install -y 'a b' ; echo \"x\\\"y\" | tee f"),
            vec![
                vec!["apt-get", "update"],
                vec!["apt-get", "install", "-y", "a b"],
                vec!["echo", "x\"y"],
                vec!["tee", "f"],
            ]
        );
    }

    #[test]
    fn drops_redirections_and_comments() {
        assert_eq!(
            split("chown -R u /app 2>&1 >/dev/null # done\nls"),
            vec![vec!["chown", "-R", "u", "/app"], vec!["ls"]]
        );
        let c = &simple_commands("DEBIAN_FRONTEND=x sudo /usr/bin/apt-get update")[0];
        let (name, args) = c.program().unwrap();
        assert_eq!((name, args.len()), ("apt-get", 1));
    }
}
