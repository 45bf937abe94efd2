# Validate one JSON document (stdin) against one of the OCI image-spec JSON schemas.
#
# usage: python3 schema_validate.py SCHEMA_DIR SCHEMA_FILE < doc.json
# exit 0: valid; 1: invalid (errors on stdout); 2: cannot validate (reason on stdout).
#
# The schemas are draft-04 and name each other by URL (`"$ref": "defs.json#/..."` resolved
# against ids under https://opencontainers.org/schema/); every such URL is served from the file
# of the same name in SCHEMA_DIR, so nothing is fetched.
import json
import os
import re
import sys
import warnings

warnings.simplefilter("ignore")  # RefResolver is deprecated in jsonschema >= 4.18, still works

try:
    import jsonschema
except ImportError:
    print("python module jsonschema is missing")
    sys.exit(2)

schema_dir, schema_file = sys.argv[1], sys.argv[2]


def load(name):
    with open(os.path.join(schema_dir, name), encoding="utf-8") as f:
        return json.load(f)


def local_file(url):
    return load(url.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1])


schema = load(schema_file)
# The schemas declare draft-04 as "https://json-schema.org/draft-04/schema#", a spelling
# jsonschema does not recognise (it knows the http one), so name the draft here: draft-04 scopes
# refs with "id", later drafts with "$id".
cls = jsonschema.Draft4Validator
resolver = jsonschema.RefResolver(
    base_uri=schema.get("id", ""),
    referrer=schema,
    handlers={"https": local_file, "http": local_file},
)

checker = jsonschema.FormatChecker()
if "date-time" not in checker.checkers:
    # jsonschema checks date-time only when rfc3339-validator is installed (not in Debian 12);
    # RFC 3339 section 5.6, which is what Go's time.Time marshals to.
    rfc3339 = re.compile(
        r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
    )

    @checker.checks("date-time")
    def is_date_time(value):
        return not isinstance(value, str) or bool(rfc3339.match(value))


validator = cls(schema, resolver=resolver, format_checker=checker)
errors = sorted(validator.iter_errors(json.load(sys.stdin)), key=lambda e: list(e.path))
for e in errors:
    print("/".join(str(p) for p in e.path) or "(root)", ":", e.message)
sys.exit(1 if errors else 0)
