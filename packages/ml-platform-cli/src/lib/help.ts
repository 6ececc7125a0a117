/** The "Examples:" section every command's `--help` ends with. */
export function examples(...items: [what: string, command: string][]): string {
  return `\nExamples:\n${items
    .map(([what, command]) => `  # ${what}\n  $ ${command}\n`)
    .join('')}`;
}
