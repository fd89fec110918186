/** The speaker's version, printed by `--version` and sent nowhere else. */
export const VERSION = "0.1.0";
