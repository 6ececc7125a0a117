"""A strict-enough parser for the Prometheus text format, and promtool if installed."""

import re
import shutil
import subprocess

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """Return ({family: type}, {family: help}, [(name, labels_dict, value)]).

    Raises AssertionError on lines that are not valid exposition format.
    """
    types, helps, samples = {}, {}, []
    assert text.endswith("\n"), "exposition must end with a newline"
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            helps[name] = help_text
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in types, "duplicate TYPE for %s" % name
            types[name] = kind
        elif line.startswith("#") or not line:
            continue
        else:
            m = _SAMPLE.match(line)
            assert m, "bad sample line: %r" % line
            labels = {}
            if m.group(3):
                consumed = ",".join(a + '="' + b + '"' for a, b in _LABEL.findall(m.group(3)))
                assert consumed == m.group(3), "bad labels in %r" % line
                labels = dict(_LABEL.findall(m.group(3)))
            value = m.group(4)
            samples.append((m.group(1), labels, float(value.replace("+Inf", "inf"))))
    return types, helps, samples


def family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[:-len(suffix)]) == "histogram":
            return name[:-len(suffix)]
    return name


def check_histograms(types, samples):
    """Buckets cumulative and ending in +Inf == _count, per label set."""
    for family, kind in types.items():
        if kind != "histogram":
            continue
        series = {}
        for name, labels, value in samples:
            if family_of(name, types) != family:
                continue
            key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            entry = series.setdefault(key, {"buckets": [], "count": None, "sum": None})
            if name.endswith("_bucket"):
                entry["buckets"].append((float(labels["le"].replace("+Inf", "inf")), value))
            elif name.endswith("_count"):
                entry["count"] = value
            else:
                entry["sum"] = value
        for key, entry in series.items():
            bounds = [b for b, _ in entry["buckets"]]
            assert bounds == sorted(bounds), "%s %s: buckets out of order" % (family, key)
            assert bounds and bounds[-1] == float("inf"), "%s %s: no +Inf bucket" % (family, key)
            counts = [c for _, c in entry["buckets"]]
            assert counts == sorted(counts), "%s %s: buckets not cumulative" % (family, key)
            assert counts[-1] == entry["count"], "%s %s: +Inf != _count" % (family, key)
            assert entry["sum"] is not None and entry["sum"] >= 0, family


def promtool():
    return shutil.which("promtool")


def promtool_check(text):
    """Run ``promtool check metrics``; returns (returncode, output)."""
    proc = subprocess.run([promtool(), "check", "metrics"], input=text.encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return proc.returncode, proc.stdout.decode()
