//! Nodes → typed [`Instruction`]s, as BuildKit's `frontend/dockerfile/instructions`.
//!
//! [`parse_instruction`] gives every instruction its typed payload, validates its flags (BuildKit's
//! `BFlags` rules) and argument counts, and keeps its [`Span`] and original text in a
//! [`Command`]. Values stay as written: [`Command::expand`] substitutes variables for exactly the
//! instructions and fields Docker expands.

mod expand;
mod flags;
mod healthcheck;
mod parse;
mod run_flags;
mod suggest;

use crate::span::Span;

pub use flags::{FlagKind, Flags};
pub use healthcheck::{parse_go_duration, Healthcheck};
pub(crate) use parse::parse_instruction_owned;
pub use parse::{parse_instruction, parse_onbuild_trigger};
pub use run_flags::{
    parse_device, parse_mount, parse_network, parse_security, CacheSharing, Device, Mount,
    MountType, NetworkMode, Security, ValueExpander,
};

/// One instruction with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub instruction: Instruction,
    /// The instruction's place in the Dockerfile (keyword to last line, heredocs included).
    pub span: Span,
    /// The instruction as written (continuations joined, keyword included): progress lines
    /// (`[2/5] RUN go build`) and cache keys use it.
    pub original: String,
}

impl Command {
    /// The instruction's keyword, upper-case (`RUN`).
    pub fn keyword(&self) -> &'static str {
        self.instruction.keyword()
    }
}

/// A Dockerfile instruction with its typed payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    From(From),
    Run(Run),
    Cmd(CommandLine),
    Label(Vec<KeyValue>),
    Maintainer(String),
    /// Ports as written (`80/tcp`), sorted as BuildKit sorts them.
    Expose(Vec<String>),
    Env(Vec<KeyValue>),
    Add(Add),
    Copy(Copy),
    Entrypoint(CommandLine),
    Volume(Vec<String>),
    User(String),
    Workdir(String),
    Arg(Vec<ArgDef>),
    Onbuild(Onbuild),
    Stopsignal(String),
    Healthcheck(Healthcheck),
    /// The exec-form shell (`["/bin/bash", "-c"]`).
    Shell(Vec<String>),
}

impl Instruction {
    /// The keyword, upper-case.
    pub fn keyword(&self) -> &'static str {
        match self {
            Instruction::From(_) => "FROM",
            Instruction::Run(_) => "RUN",
            Instruction::Cmd(_) => "CMD",
            Instruction::Label(_) => "LABEL",
            Instruction::Maintainer(_) => "MAINTAINER",
            Instruction::Expose(_) => "EXPOSE",
            Instruction::Env(_) => "ENV",
            Instruction::Add(_) => "ADD",
            Instruction::Copy(_) => "COPY",
            Instruction::Entrypoint(_) => "ENTRYPOINT",
            Instruction::Volume(_) => "VOLUME",
            Instruction::User(_) => "USER",
            Instruction::Workdir(_) => "WORKDIR",
            Instruction::Arg(_) => "ARG",
            Instruction::Onbuild(_) => "ONBUILD",
            Instruction::Stopsignal(_) => "STOPSIGNAL",
            Instruction::Healthcheck(_) => "HEALTHCHECK",
            Instruction::Shell(_) => "SHELL",
        }
    }
}

/// Every instruction keyword, upper-case (for suggestions and checks).
pub const KEYWORDS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// `FROM [--platform=P] base [AS name]`: the start of a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct From {
    /// The base as written (`golang:${GO_VERSION}`, `scratch`, an earlier stage's name).
    pub base: String,
    /// The stage name, lower-cased (stage names match case-insensitively).
    pub name: Option<String>,
    /// The stage name as written.
    pub name_as_written: Option<String>,
    /// `--platform` as written (variables not yet expanded).
    pub platform: Option<String>,
    /// The description from a preceding `# NAME description` comment.
    pub comment: Option<String>,
}

/// A command line of RUN, CMD or ENTRYPOINT.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandLine {
    /// Exec form: the argv. Shell form: one element, the command text.
    pub cmd_line: Vec<String>,
    /// Shell form: run through the stage's SHELL.
    pub prepend_shell: bool,
    /// Heredoc bodies written after the instruction (`RUN <<EOF`).
    pub files: Vec<InlineFile>,
}

/// A heredoc body of RUN, CMD or ENTRYPOINT (BuildKit's `ShellInlineFile`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineFile {
    pub name: String,
    /// The body, unchomped.
    pub data: String,
    /// `<<-`: leading tabs are to be stripped.
    pub chomp: bool,
}

/// `RUN [flags] command`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Run {
    pub cmd: CommandLine,
    /// Every `--mount` value as written.
    pub mount_specs: Vec<String>,
    /// The parsed mounts, one per spec. Empty while any spec still references a variable: such
    /// specs are parsed by [`Command::expand`], as BuildKit parses them at dispatch.
    pub mounts: Vec<Mount>,
    pub network: NetworkMode,
    pub security: Security,
    pub devices: Vec<Device>,
    /// Names of the flags written (`["mount"]`), in order of first use.
    pub flags_used: Vec<String>,
}

impl Run {
    /// Whether [`Run::mounts`] holds every mount (no spec waits for expansion).
    pub fn mounts_parsed(&self) -> bool {
        self.mounts.len() == self.mount_specs.len()
    }
}

/// `KEY=value` of ENV or LABEL. The value stays raw (quotes, escapes) until expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
    /// Written as `KEY=value` (false for the legacy `ENV KEY value` form).
    pub has_equals: bool,
}

/// One name of an ARG instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDef {
    pub key: String,
    /// The default as written (`None` for `ARG NAME`).
    pub value: Option<String>,
    /// The description from a preceding `# NAME description` comment.
    pub comment: Option<String>,
}

/// Sources and destination of COPY and ADD.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourcesAndDest {
    pub dest: String,
    /// Paths, URLs or git references.
    pub sources: Vec<String>,
    /// Heredoc sources (`COPY <<EOF /dst`), in order.
    pub contents: Vec<SourceContent>,
}

/// A heredoc source of COPY or ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceContent {
    /// The heredoc name, used as the file name.
    pub path: String,
    /// The body (already chomped for `<<-`).
    pub data: String,
    /// Variables in the body are expanded (the delimiter was not quoted).
    pub expand: bool,
}

/// `COPY [flags] src... dest`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Copy {
    pub paths: SourcesAndDest,
    /// `--from`: a stage name or index, or an image. `None` when absent or empty.
    pub from: Option<String>,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    pub parents: bool,
    pub exclude: Vec<String>,
}

/// `ADD [flags] src... dest`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Add {
    pub paths: SourcesAndDest,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    pub keep_git_dir: bool,
    pub checksum: Option<String>,
    /// `--unpack`: `None` when not written (archives from the context unpack, URLs do not).
    pub unpack: Option<bool>,
    pub exclude: Vec<String>,
}

/// `ONBUILD instruction`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Onbuild {
    /// The trigger as Docker stores it in the image config (`RUN echo hi`).
    pub expression: String,
    /// The trigger parsed. BuildKit checks a trigger only when a later build runs it, so a
    /// trigger that does not parse is kept here as the error it will give then.
    pub trigger: Result<Box<Command>, crate::Error>,
}
