//! Variable expansion of instructions, for exactly the instructions and fields Docker expands:
//! ADD, COPY (with `--chown`, `--chmod`, `--from`), ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER,
//! VOLUME, WORKDIR, ARG, and the values of RUN `--mount`. RUN, CMD, ENTRYPOINT, SHELL and
//! HEALTHCHECK command text is left to the shell at run time; ONBUILD triggers are expanded when
//! they run. Heredoc bodies are expanded by whoever writes them out.

use super::run_flags::parse_mount;
use super::{Add, ArgDef, Command, Copy, From, Instruction, KeyValue, Run, SourcesAndDest};
use crate::error::Error;
use crate::shell::{Env, Expanded, Lexer, References};
use crate::span::Span;

/// Runs the lexer over words and remembers which variables they referenced.
struct Expander<'a> {
    lexer: &'a Lexer,
    env: &'a dyn Env,
    span: Span,
    refs: References,
}

impl Expander<'_> {
    /// One word: quotes removed, variables substituted, no splitting.
    fn word(&mut self, word: &str) -> Result<String, Error> {
        self.lexer
            .process_word_into(word, self.env, &mut self.refs)
            .map_err(|e| e.at(self.span))
    }

    fn opt(&mut self, word: Option<&String>) -> Result<Option<String>, Error> {
        word.map(|w| self.word(w)).transpose()
    }

    /// Words split on blanks, as EXPOSE takes them.
    fn words(&mut self, word: &str) -> Result<Vec<String>, Error> {
        // The word-splitting call does not report matches; take them from the one-word pass.
        self.word(word)?;
        self.lexer
            .process_words(word, self.env)
            .map_err(|e| e.at(self.span))
    }

    fn key_values(&mut self, kvs: &[KeyValue]) -> Result<Vec<KeyValue>, Error> {
        kvs.iter()
            .map(|kv| {
                Ok(KeyValue {
                    key: self.word(&kv.key)?,
                    value: self.word(&kv.value)?,
                    has_equals: kv.has_equals,
                })
            })
            .collect()
    }

    fn paths(&mut self, p: &SourcesAndDest) -> Result<SourcesAndDest, Error> {
        let dest = self.word(&p.dest)?;
        let mut sources = Vec::with_capacity(p.sources.len());
        for s in &p.sources {
            sources.push(self.word(s)?);
        }
        Ok(SourcesAndDest {
            dest,
            sources,
            contents: p.contents.clone(),
        })
    }
}

impl Command {
    /// Substitute variables from `env` in the fields Docker expands (see the module docs).
    ///
    /// Returns the expanded command with the variables it referenced, set and unset (the
    /// UndefinedVar check reads the latter). Errors carry the instruction's span.
    pub fn expand(&self, lexer: &Lexer, env: &dyn Env) -> Result<Expanded<Command>, Error> {
        let mut x = Expander {
            lexer,
            env,
            span: self.span,
            refs: References::default(),
        };
        let instruction = match &self.instruction {
            // Fields are built one by one (not cloned, then overwritten), in the order Docker
            // expands them, so the first error is the same.
            Instruction::From(f) => Instruction::From(From {
                base: x.word(&f.base)?,
                platform: x.opt(f.platform.as_ref())?,
                name: f.name.clone(),
                name_as_written: f.name_as_written.clone(),
                comment: f.comment.clone(),
            }),
            Instruction::Run(r) => {
                let mut mounts = Vec::with_capacity(r.mount_specs.len());
                for spec in &r.mount_specs {
                    let mut expand_value = |v: &str| x.word(v).map_err(|e| e.message);
                    let mount = parse_mount(spec, Some(&mut expand_value))
                        .map_err(|m| Error::instruction(m, Some(self.span)))?;
                    mounts.extend(mount);
                }
                Instruction::Run(Run {
                    cmd: r.cmd.clone(),
                    mount_specs: r.mount_specs.clone(),
                    mounts,
                    network: r.network,
                    security: r.security,
                    devices: r.devices.clone(),
                    flags_used: r.flags_used.clone(),
                })
            }
            Instruction::Label(kvs) => Instruction::Label(x.key_values(kvs)?),
            Instruction::Env(kvs) => Instruction::Env(x.key_values(kvs)?),
            Instruction::Expose(ports) => {
                let mut out = Vec::with_capacity(ports.len());
                for p in ports {
                    out.extend(x.words(p)?);
                }
                Instruction::Expose(out)
            }
            Instruction::Add(a) => {
                let chown = x.opt(a.chown.as_ref())?;
                let chmod = x.opt(a.chmod.as_ref())?;
                let checksum = x.opt(a.checksum.as_ref())?;
                Instruction::Add(Add {
                    paths: x.paths(&a.paths)?,
                    chown,
                    chmod,
                    link: a.link,
                    keep_git_dir: a.keep_git_dir,
                    checksum,
                    unpack: a.unpack,
                    exclude: a.exclude.clone(),
                })
            }
            Instruction::Copy(c) => {
                let chown = x.opt(c.chown.as_ref())?;
                let chmod = x.opt(c.chmod.as_ref())?;
                let from = x.opt(c.from.as_ref())?.filter(|f| !f.is_empty());
                Instruction::Copy(Copy {
                    paths: x.paths(&c.paths)?,
                    from,
                    chown,
                    chmod,
                    link: c.link,
                    parents: c.parents,
                    exclude: c.exclude.clone(),
                })
            }
            Instruction::Volume(vs) => {
                Instruction::Volume(vs.iter().map(|v| x.word(v)).collect::<Result<_, _>>()?)
            }
            Instruction::User(u) => Instruction::User(x.word(u)?),
            Instruction::Workdir(w) => Instruction::Workdir(x.word(w)?),
            Instruction::Stopsignal(s) => Instruction::Stopsignal(x.word(s)?),
            Instruction::Arg(args) => {
                let mut out = Vec::with_capacity(args.len());
                for a in args {
                    out.push(ArgDef {
                        key: x.word(&a.key)?,
                        value: x.opt(a.value.as_ref())?,
                        comment: a.comment.clone(),
                    });
                }
                Instruction::Arg(out)
            }
            other @ (Instruction::Cmd(_)
            | Instruction::Entrypoint(_)
            | Instruction::Shell(_)
            | Instruction::Healthcheck(_)
            | Instruction::Maintainer(_)
            | Instruction::Onbuild(_)) => other.clone(),
        };
        Ok(Expanded {
            value: Command {
                instruction,
                span: self.span,
                original: self.original.clone(),
            },
            matched: x.refs.matched,
            unmatched: x.refs.unmatched,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::instruction::MountType;

    fn cmd(instruction: Instruction) -> Command {
        Command {
            instruction,
            span: Span::on_line(3, 1, 10),
            original: String::new(),
        }
    }

    fn env() -> BTreeMap<String, String> {
        [("A", "1"), ("DIR", "/app"), ("T", "cache"), ("P", "80 443")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn expand(c: &Command) -> Expanded<Command> {
        c.expand(&Lexer::new('\\'), &env()).unwrap()
    }

    #[test]
    fn env_values_are_shell_words() {
        let c = cmd(Instruction::Env(vec![KeyValue {
            key: "K".into(),
            value: "\"a b\"-$A-$NOPE".into(),
            has_equals: true,
        }]));
        let out = expand(&c);
        let Instruction::Env(kvs) = out.value.instruction else {
            panic!("not env")
        };
        assert_eq!(kvs[0].value, "a b-1-");
        assert!(out.matched.contains("A"));
        assert!(out.unmatched.contains("NOPE"));
    }

    #[test]
    fn copy_fields() {
        let c = cmd(Instruction::Copy(Copy {
            paths: SourcesAndDest {
                dest: "$DIR/".into(),
                sources: vec!["src-$A".into()],
                contents: Vec::new(),
            },
            from: Some("${STAGE:-build}".into()),
            chown: Some("$A:$A".into()),
            chmod: Some("0${A}755".into()),
            ..Copy::default()
        }));
        let Instruction::Copy(c) = expand(&c).value.instruction else {
            panic!("not copy")
        };
        assert_eq!(c.paths.dest, "/app/");
        assert_eq!(c.paths.sources, ["src-1"]);
        assert_eq!(c.from.as_deref(), Some("build"));
        assert_eq!(c.chown.as_deref(), Some("1:1"));
        assert_eq!(c.chmod.as_deref(), Some("01755"));
    }

    #[test]
    fn expose_splits_and_run_text_stays() {
        let c = cmd(Instruction::Expose(vec!["$P".into(), "8080/udp".into()]));
        let Instruction::Expose(p) = expand(&c).value.instruction else {
            panic!("not expose")
        };
        assert_eq!(p, ["80", "443", "8080/udp"]);
        let run = Run {
            cmd: crate::instruction::CommandLine {
                cmd_line: vec!["echo $A".into()],
                prepend_shell: true,
                files: Vec::new(),
            },
            mount_specs: vec!["type=$T,target=$DIR/c".into()],
            ..Run::default()
        };
        let Instruction::Run(r) = expand(&cmd(Instruction::Run(run))).value.instruction else {
            panic!("not run")
        };
        assert_eq!(r.cmd.cmd_line, ["echo $A"]);
        assert_eq!(r.mounts[0].kind, MountType::Cache);
        assert_eq!(r.mounts[0].target.as_deref(), Some("/app/c"));
    }

    #[test]
    fn arg_defaults_and_errors_have_span() {
        let c = cmd(Instruction::Arg(vec![ArgDef {
            key: "X".into(),
            value: Some("${A}0".into()),
            comment: None,
        }]));
        let Instruction::Arg(a) = expand(&c).value.instruction else {
            panic!("not arg")
        };
        assert_eq!(a[0].value.as_deref(), Some("10"));
        let bad = cmd(Instruction::Workdir("${MISSING:?is required}".into()));
        let e = bad.expand(&Lexer::new('\\'), &env()).unwrap_err();
        assert_eq!(e.span, Some(Span::on_line(3, 1, 10)));
        let bad_mount = cmd(Instruction::Run(Run {
            mount_specs: vec!["type=$A".into()],
            ..Run::default()
        }));
        let e = bad_mount.expand(&Lexer::new('\\'), &env()).unwrap_err();
        assert_eq!(e.message, "unsupported mount type \"1\"");
    }
}
