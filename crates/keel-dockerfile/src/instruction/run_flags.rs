//! The values of RUN's flags: `--mount` specs (BuildKit's `commands_runmount.go`), `--device`,
//! `--network` and `--security`.

use super::suggest;

/// What a `RUN --mount` attaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    Bind,
    Cache,
    Tmpfs,
    Secret,
    Ssh,
}

impl MountType {
    const ALL: [(&'static str, MountType); 5] = [
        ("bind", MountType::Bind),
        ("cache", MountType::Cache),
        ("tmpfs", MountType::Tmpfs),
        ("secret", MountType::Secret),
        ("ssh", MountType::Ssh),
    ];

    /// The type's name as written in a mount spec.
    pub fn as_str(self) -> &'static str {
        match self {
            MountType::Bind => "bind",
            MountType::Cache => "cache",
            MountType::Tmpfs => "tmpfs",
            MountType::Secret => "secret",
            MountType::Ssh => "ssh",
        }
    }
}

/// How concurrent builds share a cache mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheSharing {
    Shared,
    Private,
    Locked,
}

/// One `RUN --mount=...`, validated as BuildKit does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mount {
    pub kind: MountType,
    /// `from=`: a stage name or index, or an image.
    pub from: Option<String>,
    /// `source=` / `src=`.
    pub source: Option<String>,
    /// `target=` / `dst=` / `destination=`.
    pub target: Option<String>,
    /// Bind, secret and ssh mounts are read-only unless `rw`; cache and tmpfs are writable.
    pub read_only: bool,
    /// `size=` of a tmpfs, in bytes.
    pub size_limit: Option<u64>,
    /// `id=`: cache id, secret id or ssh id.
    pub id: Option<String>,
    /// `sharing=` as written; see [`Mount::sharing`] for the effective value.
    pub sharing: Option<CacheSharing>,
    /// `required`: a missing secret or ssh agent is an error instead of an empty mount.
    pub required: bool,
    /// `mode=` (octal), `uid=`, `gid=`: only for cache, secret and ssh mounts.
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// `env=`: expose a secret as this environment variable.
    pub env: Option<String>,
}

impl Mount {
    /// The effective sharing mode: `shared` unless written.
    pub fn sharing(&self) -> CacheSharing {
        self.sharing.unwrap_or(CacheSharing::Shared)
    }
}

/// Expands one value of a mount spec.
pub type ValueExpander<'a> = dyn FnMut(&str) -> Result<String, String> + 'a;

/// Parse a mount spec.
///
/// Without an expander this is BuildKit's parse-time pass: only the shape of the fields is
/// checked (and that `from=` uses no variable); the values wait for expansion and `Ok(None)` is
/// returned. With an expander every value is expanded, then validated.
pub fn parse_mount(
    spec: &str,
    expander: Option<&mut ValueExpander<'_>>,
) -> Result<Option<Mount>, String> {
    let fields = split_csv(spec).map_err(|e| format!("failed to parse csv mounts: {e}"))?;
    let mut expander = expander;
    let mut m = Mount {
        kind: MountType::Bind,
        from: None,
        source: None,
        target: None,
        read_only: false,
        size_limit: None,
        id: None,
        sharing: None,
        required: false,
        mode: None,
        uid: None,
        gid: None,
        env: None,
    };
    let mut ro_auto = true;
    for field in &fields {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.to_lowercase(), Some(v)),
            None => (field.to_lowercase(), None),
        };
        let Some(value) = value else {
            if expander.is_none() {
                continue;
            }
            match key.as_str() {
                "readonly" | "ro" => {
                    m.read_only = true;
                    ro_auto = false;
                    continue;
                }
                "readwrite" | "rw" => {
                    m.read_only = false;
                    ro_auto = false;
                    continue;
                }
                "required" if matches!(m.kind, MountType::Secret | MountType::Ssh) => {
                    m.required = true;
                    continue;
                }
                "required" => {
                    return Err(format!(
                        "unexpected key '{key}' for mount type '{}'",
                        m.kind.as_str()
                    ))
                }
                _ => return Err(format!("invalid field '{field}' must be a key=value pair")),
            }
        };
        let value = match expander.as_mut() {
            Some(expand) => expand(value)?,
            None => {
                // A stage alias is resolved before variables are known, so `from` stays literal.
                if key == "from" && has_variable(value) {
                    return Err(format!(
                        "'{key}' doesn't support variable expansion, define alias stage instead"
                    ));
                }
                continue;
            }
        };
        let invalid = || format!("invalid value for {key}: {value}");
        match key.as_str() {
            "type" => {
                let lower = value.to_lowercase();
                let Some((_, kind)) = MountType::ALL.iter().find(|(n, _)| *n == lower) else {
                    let names: Vec<&str> = MountType::ALL.iter().map(|(n, _)| *n).collect();
                    return Err(suggest::with_suggestion(
                        format!("unsupported mount type {value:?}"),
                        &value,
                        &names,
                        true,
                    ));
                };
                m.kind = *kind;
            }
            "from" => m.from = Some(value),
            "source" | "src" => m.source = Some(value),
            "target" | "dst" | "destination" => m.target = Some(value),
            "readonly" | "ro" => {
                m.read_only = parse_go_bool(&value).ok_or_else(invalid)?;
                ro_auto = false;
            }
            "readwrite" | "rw" => {
                m.read_only = !parse_go_bool(&value).ok_or_else(invalid)?;
                ro_auto = false;
            }
            "required" => {
                if !matches!(m.kind, MountType::Secret | MountType::Ssh) {
                    return Err(format!(
                        "unexpected key '{key}' for mount type '{}'",
                        m.kind.as_str()
                    ));
                }
                m.required = parse_go_bool(&value).ok_or_else(invalid)?;
            }
            "size" => {
                if m.kind != MountType::Tmpfs {
                    return Err(format!(
                        "unexpected key '{key}' for mount type '{}'",
                        m.kind.as_str()
                    ));
                }
                m.size_limit = Some(parse_ram_bytes(&value).ok_or_else(invalid)?);
            }
            "env" => {
                if m.kind != MountType::Secret {
                    return Err(format!(
                        "unexpected key '{key}' for mount type '{}'",
                        m.kind.as_str()
                    ));
                }
                m.env = Some(value);
            }
            "id" => m.id = Some(value),
            "sharing" => {
                m.sharing = Some(match value.to_lowercase().as_str() {
                    "shared" => CacheSharing::Shared,
                    "private" => CacheSharing::Private,
                    "locked" => CacheSharing::Locked,
                    _ => return Err(format!("unsupported sharing value {value:?}")),
                });
            }
            "mode" => {
                m.mode = Some(
                    u32::from_str_radix(&value, 8)
                        .map_err(|_| format!("invalid value {value} for mode"))?,
                );
            }
            "uid" => {
                m.uid = Some(
                    value
                        .parse::<u32>()
                        .map_err(|_| format!("invalid value {value} for uid"))?,
                );
            }
            "gid" => {
                m.gid = Some(
                    value
                        .parse::<u32>()
                        .map_err(|_| format!("invalid value {value} for gid"))?,
                );
            }
            _ => {
                const KEYS: &[&str] = &[
                    "type",
                    "from",
                    "source",
                    "target",
                    "readonly",
                    "id",
                    "sharing",
                    "required",
                    "size",
                    "mode",
                    "uid",
                    "gid",
                    "src",
                    "dst",
                    "destination",
                    "ro",
                    "rw",
                    "readwrite",
                    "env",
                ];
                return Err(suggest::with_suggestion(
                    format!("unexpected key '{key}' in '{field}'"),
                    &key,
                    KEYS,
                    true,
                ));
            }
        }
    }
    if expander.is_none() {
        return Ok(None);
    }
    validate(&mut m, ro_auto)?;
    Ok(Some(m))
}

fn validate(m: &mut Mount, ro_auto: bool) -> Result<(), String> {
    let file_info_allowed = matches!(
        m.kind,
        MountType::Secret | MountType::Ssh | MountType::Cache
    );
    for (name, set) in [
        ("mode", m.mode.is_some()),
        ("uid", m.uid.is_some()),
        ("gid", m.gid.is_some()),
    ] {
        if set && !file_info_allowed {
            return Err(format!(
                "{name} not allowed for {:?} type mounts",
                m.kind.as_str()
            ));
        }
    }
    if ro_auto {
        m.read_only = !matches!(m.kind, MountType::Cache | MountType::Tmpfs);
    }
    if m.sharing.is_some() && m.kind != MountType::Cache {
        return Err(format!(
            "invalid cache sharing set for {} mount",
            m.kind.as_str()
        ));
    }
    if m.kind == MountType::Secret {
        if m.from.is_some() {
            return Err("secret mount should not have a from".into());
        }
        if m.source.is_none() && m.target.is_none() && m.id.is_none() {
            return Err("invalid secret mount. one of source, target required".into());
        }
        if m.source.is_some() && m.id.is_some() {
            return Err("both source and id can't be set".into());
        }
    }
    Ok(())
}

/// A `$` followed by anything: what BuildKit takes for a variable in `from=`.
fn has_variable(value: &str) -> bool {
    value
        .char_indices()
        .any(|(i, c)| c == '$' && i + 1 < value.len())
}

/// Go's `strconv.ParseBool`.
pub(crate) fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Docker's `units.RAMInBytes`: `64m`, `1.5g`, `512KiB`, `1024` (binary multiples).
fn parse_ram_bytes(s: &str) -> Option<u64> {
    let digits_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(digits_end);
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return None;
    }
    let number: f64 = number.parse().ok()?;
    let suffix = suffix
        .strip_prefix(' ')
        .unwrap_or(suffix)
        .to_ascii_lowercase();
    let mut rest = suffix.as_str();
    let mut multiplier: f64 = 1.0;
    if let Some(c) = rest.chars().next() {
        let power = match c {
            'k' => 1,
            'm' => 2,
            'g' => 3,
            't' => 4,
            'p' => 5,
            _ => 0,
        };
        if power > 0 {
            multiplier = 1024f64.powi(power);
            rest = &rest[1..];
        }
    }
    let rest = rest.strip_prefix('i').unwrap_or(rest);
    let rest = rest.strip_prefix('b').unwrap_or(rest);
    if !rest.is_empty() {
        return None;
    }
    // Truncation towards zero is what Go's int64(float) conversion does.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some((number * multiplier) as u64)
}

/// Split one CSV record as Go's `encoding/csv` does: `,` separates, `"` quotes a field and `""`
/// inside quotes is a literal quote; a bare quote in an unquoted field is an error.
pub(crate) fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("extraneous or missing \" in quoted-field".into()),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(_) => return Err("extraneous or missing \" in quoted-field".into()),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some('"') => return Err("bare \" in non-quoted-field".into()),
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

/// One `RUN --device=...`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Device {
    /// The CDI device name (`vendor.com/class=name`).
    pub name: String,
    /// Fail when the device is not available, instead of running without it.
    pub required: bool,
}

/// Parse a `--device` value: `NAME[,required[=BOOL]]` or `name=NAME,...`.
pub fn parse_device(value: &str) -> Result<Device, String> {
    let fields = split_csv(value).map_err(|e| format!("failed to parse csv devices: {e}"))?;
    let mut d = Device {
        name: String::new(),
        required: false,
    };
    for field in &fields {
        let Some((key, val)) = field.split_once('=') else {
            if field.eq_ignore_ascii_case("required") {
                d.required = true;
            } else if d.name.is_empty() {
                d.name.clone_from(field);
            } else {
                return Err(format!("invalid field '{field}' must be a key=value pair"));
            }
            continue;
        };
        match key.to_lowercase().as_str() {
            "name" => {
                if !d.name.is_empty() {
                    return Err(format!("device name already set to {}", d.name));
                }
                d.name = val.to_owned();
            }
            "required" => {
                d.required = parse_go_bool(val)
                    .ok_or_else(|| format!("invalid value for required: {val}"))?;
            }
            other => {
                if d.name.is_empty() {
                    // A CDI name itself contains `=` (`vendor.com/device=foo`).
                    d.name.clone_from(field);
                } else {
                    return Err(suggest::with_suggestion(
                        format!("unexpected key '{other}' in '{field}'"),
                        other,
                        &["name", "required"],
                        true,
                    ));
                }
            }
        }
    }
    Ok(d)
}

/// `RUN --network=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    #[default]
    Default,
    None,
    Host,
}

/// Parse a `--network` value.
pub fn parse_network(value: &str) -> Result<NetworkMode, String> {
    match value {
        "default" => Ok(NetworkMode::Default),
        "none" => Ok(NetworkMode::None),
        "host" => Ok(NetworkMode::Host),
        _ => Err(format!("invalid network mode {value:?}")),
    }
}

/// `RUN --security=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    #[default]
    Sandbox,
    Insecure,
}

/// Parse a `--security` value.
pub fn parse_security(value: &str) -> Result<Security, String> {
    match value {
        "sandbox" => Ok(Security::Sandbox),
        "insecure" => Ok(Security::Insecure),
        _ => Err(format!("security {value:?} is not valid")),
    }
}

#[cfg(test)]
#[path = "run_flags_tests.rs"]
mod tests;
