// Uniform printing of a scenario's figures.
const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function report(name, lines) {
  console.log(`\n== ${name}`);
  for (const [label, value] of lines) console.log(`  ${label.padEnd(26)} ${value}`);
}

export { fmt };
