"""``etc/deepaas.conf.sample``, derived from the options: ``python -m deepaas.config_sample``."""

from __future__ import annotations

from deepaas.config import OPTIONS, Settings, shown_default

__all__ = ["sample_config"]


def sample_config() -> str:
    """The text of ``etc/deepaas.conf.sample``: every option, its help and its default."""
    defaults = Settings()
    lines = [
        "# deepaas configuration. Pass it with --config-file FILE (or DEEPAAS_CONFIG_FILE).",
        "# Precedence: defaults < this file < DEEPAAS_* environment variables < flags.",
        "# Option names may be written with - or _; a TOML file takes the same keys in a",
        "# [deepaas] table. Any other section is an error. Uncomment and edit what you need.",
        "",
        "[deepaas]",
    ]
    for opt in OPTIONS:
        shown = shown_default(opt, getattr(defaults, opt.name))
        lines += ["", "# %s" % opt.help, "# Flag %s, environment %s." % (opt.flag, opt.env),
                  ("#%s = %s" % (opt.name, shown)).rstrip()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m deepaas.config_sample > etc/deepaas.conf.sample
    print(sample_config(), end="")
