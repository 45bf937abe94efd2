//! The rule table (names, descriptions, links) and the collector that applies the check config.

use crate::span::Span;

use super::{CheckConfig, Finding};

/// One check rule: its name, one-line description and documentation link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// BuildKit's rule name, or keel's for keel's own rules.
    pub name: &'static str,
    /// The rule's one-line description, as BuildKit words it.
    pub description: &'static str,
    /// Documentation link.
    pub url: &'static str,
    /// Off unless enabled with `experimental=`.
    pub experimental: bool,
}

macro_rules! buildkit_rule {
    ($ident:ident, $name:literal, $kebab:literal, $desc:expr) => {
        buildkit_rule!($ident, $name, $kebab, $desc, false);
    };
    ($ident:ident, $name:literal, $kebab:literal, $desc:expr, $exp:expr) => {
        pub const $ident: Rule = Rule {
            name: $name,
            description: $desc,
            url: concat!("https://docs.docker.com/go/dockerfile/rule/", $kebab, "/"),
            experimental: $exp,
        };
    };
}

macro_rules! keel_rule {
    ($ident:ident, $name:literal, $kebab:literal, $desc:expr) => {
        pub const $ident: Rule = Rule {
            name: $name,
            description: $desc,
            url: concat!("docs/checks.md#keel-", $kebab),
            experimental: false,
        };
    };
}

buildkit_rule!(
    STAGE_NAME_CASING,
    "StageNameCasing",
    "stage-name-casing",
    "Stage names should be lowercase"
);
buildkit_rule!(
    FROM_AS_CASING,
    "FromAsCasing",
    "from-as-casing",
    "The 'as' keyword should match the case of the 'from' keyword"
);
buildkit_rule!(
    NO_EMPTY_CONTINUATION,
    "NoEmptyContinuation",
    "no-empty-continuation",
    "Empty continuation lines will become errors in a future release"
);
buildkit_rule!(
    CONSISTENT_INSTRUCTION_CASING,
    "ConsistentInstructionCasing",
    "consistent-instruction-casing",
    "All commands within the Dockerfile should use the same casing (either upper or lower)"
);
buildkit_rule!(
    DUPLICATE_STAGE_NAME,
    "DuplicateStageName",
    "duplicate-stage-name",
    "Stage names should be unique"
);
buildkit_rule!(
    RESERVED_STAGE_NAME,
    "ReservedStageName",
    "reserved-stage-name",
    "Reserved words should not be used as stage names"
);
buildkit_rule!(JSON_ARGS_RECOMMENDED, "JSONArgsRecommended", "json-args-recommended", "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals");
buildkit_rule!(
    MAINTAINER_DEPRECATED,
    "MaintainerDeprecated",
    "maintainer-deprecated",
    "The MAINTAINER instruction is deprecated, use a label instead to define an image author"
);
buildkit_rule!(
    UNDEFINED_ARG_IN_FROM,
    "UndefinedArgInFrom",
    "undefined-arg-in-from",
    "FROM command must use declared ARGs"
);
buildkit_rule!(WORKDIR_RELATIVE_PATH, "WorkdirRelativePath", "workdir-relative-path", "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes");
buildkit_rule!(
    UNDEFINED_VAR,
    "UndefinedVar",
    "undefined-var",
    "Variables should be defined before their use"
);
buildkit_rule!(
    MULTIPLE_INSTRUCTIONS_DISALLOWED,
    "MultipleInstructionsDisallowed",
    "multiple-instructions-disallowed",
    "Multiple instructions of the same type should not be used in the same stage"
);
buildkit_rule!(
    LEGACY_KEY_VALUE_FORMAT,
    "LegacyKeyValueFormat",
    "legacy-key-value-format",
    "Legacy key/value format with whitespace separator should not be used"
);
buildkit_rule!(REDUNDANT_TARGET_PLATFORM, "RedundantTargetPlatform", "redundant-target-platform", "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior");
buildkit_rule!(
    SECRETS_USED_IN_ARG_OR_ENV,
    "SecretsUsedInArgOrEnv",
    "secrets-used-in-arg-or-env",
    "Sensitive data should not be used in the ARG or ENV commands"
);
buildkit_rule!(
    INVALID_DEFAULT_ARG_IN_FROM,
    "InvalidDefaultArgInFrom",
    "invalid-default-arg-in-from",
    "Default value for global ARG results in an empty or invalid base image name"
);
buildkit_rule!(
    FROM_PLATFORM_FLAG_CONST_DISALLOWED,
    "FromPlatformFlagConstDisallowed",
    "from-platform-flag-const-disallowed",
    "FROM --platform flag should not use a constant value"
);
buildkit_rule!(INVALID_DEFINITION_DESCRIPTION, "InvalidDefinitionDescription", "invalid-definition-description", "Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.", true);
buildkit_rule!(
    EXPOSE_PROTO_CASING,
    "ExposeProtoCasing",
    "expose-proto-casing",
    "Protocol in EXPOSE instruction should be lowercase"
);
buildkit_rule!(EXPOSE_INVALID_FORMAT, "ExposeInvalidFormat", "expose-invalid-format", "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release");

keel_rule!(
    CHOWN_AFTER_COPY,
    "ChownAfterCopy",
    "chown-after-copy",
    "Changing the owner or mode of copied files in a later RUN stores them twice"
);
keel_rule!(
    APT_UPDATE_WITHOUT_INSTALL,
    "AptUpdateWithoutInstall",
    "apt-update-without-install",
    "apt-get update without an install in the same RUN caches a stale package index"
);
keel_rule!(
    ADD_LOCAL_FILE,
    "AddLocalFile",
    "add-local-file",
    "COPY should be used instead of ADD for local files and directories"
);

/// Every rule keel checks, BuildKit's first.
pub const ALL: &[Rule] = &[
    STAGE_NAME_CASING,
    FROM_AS_CASING,
    NO_EMPTY_CONTINUATION,
    CONSISTENT_INSTRUCTION_CASING,
    DUPLICATE_STAGE_NAME,
    RESERVED_STAGE_NAME,
    JSON_ARGS_RECOMMENDED,
    MAINTAINER_DEPRECATED,
    UNDEFINED_ARG_IN_FROM,
    WORKDIR_RELATIVE_PATH,
    UNDEFINED_VAR,
    MULTIPLE_INSTRUCTIONS_DISALLOWED,
    LEGACY_KEY_VALUE_FORMAT,
    REDUNDANT_TARGET_PLATFORM,
    SECRETS_USED_IN_ARG_OR_ENV,
    INVALID_DEFAULT_ARG_IN_FROM,
    FROM_PLATFORM_FLAG_CONST_DISALLOWED,
    INVALID_DEFINITION_DESCRIPTION,
    EXPOSE_PROTO_CASING,
    EXPOSE_INVALID_FORMAT,
    CHOWN_AFTER_COPY,
    APT_UPDATE_WITHOUT_INSTALL,
    ADD_LOCAL_FILE,
];

/// Collects findings, dropping those the config turns off.
pub(crate) struct Report<'c> {
    config: &'c CheckConfig,
    pub findings: Vec<Finding>,
}

impl<'c> Report<'c> {
    pub fn new(config: &'c CheckConfig) -> Report<'c> {
        Report {
            config,
            findings: Vec::new(),
        }
    }

    /// Record a finding unless the rule is turned off.
    pub fn add(&mut self, rule: &Rule, message: String, span: Span) {
        if !self.config.enabled(rule) {
            return;
        }
        self.findings.push(Finding {
            rule: rule.name,
            description: rule.description,
            message,
            url: rule.url.to_string(),
            span,
        });
    }
}
