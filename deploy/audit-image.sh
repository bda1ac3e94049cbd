#!/usr/bin/env bash
# `npm run audit:image`: the security scan of what the image ships, its production dependencies (the image installs
# exactly `npm ci --omit=dev` from package-lock.json; the Node.js runtime and Debian come from the base image).
#
#   1. an SBOM of the production tree (CycloneDX, `npm sbom --omit=dev`): .data/audit/sbom.cdx.json, for any offline
#      scanner (osv-scanner scan --sbom, grype sbom:…) where one is installed
#   2. `npm audit --omit=dev` against the registry's advisory database; every high or critical finding must be listed
#      in deploy/audit-exceptions.json with the reason it does not apply, else the scan fails
#
# Exit: 0 clean (or every high/critical explained), 1 unexplained high/critical findings, 3 no advisory data could be
# had (the registry refused or could not be reached: the SBOM is still written). The summary is printed and kept in
# .data/audit/summary.txt.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=.data/audit
mkdir -p "$OUT"

log() { printf '[audit] %s\n' "$*"; }

npm sbom --omit=dev --sbom-format cyclonedx >"${OUT}/sbom.cdx.json"
components=$(node -e 'console.log(require(process.argv[1]).components.length)' "$PWD/${OUT}/sbom.cdx.json")
log "SBOM: ${components} production packages in ${OUT}/sbom.cdx.json"

set +e
npm audit --omit=dev --json >"${OUT}/npm-audit.json" 2>"${OUT}/npm-audit.log"
set -e

node - "$PWD/${OUT}/npm-audit.json" "$PWD/deploy/audit-exceptions.json" "$PWD/${OUT}/summary.txt" <<'NODE'
const { readFileSync, writeFileSync } = require('node:fs');
const [reportPath, exceptionsPath, summaryPath] = process.argv.slice(2);
const lines = [];
const say = (line) => {
  lines.push(line);
  console.log(`[audit] ${line}`);
};
const finish = (code) => {
  writeFileSync(summaryPath, `${lines.join('\n')}\n`);
  process.exit(code);
};

let report;
try {
  report = JSON.parse(readFileSync(reportPath, 'utf8'));
} catch {
  say('npm audit produced no report (see .data/audit/npm-audit.log)');
  finish(3);
}
if (!report.metadata) {
  say(`no advisory data: the registry answered ${report.statusCode ?? '?'} ${report.message ?? report.error?.summary ?? ''}`.trim());
  say('the SBOM is written; scan it where an advisory database is reachable (npm audit, osv-scanner, grype)');
  finish(3);
}
const exceptions = JSON.parse(readFileSync(exceptionsPath, 'utf8'));
const counts = report.metadata.vulnerabilities;
say(`npm audit --omit=dev: ${report.metadata.dependencies?.prod ?? '?'} production dependencies; ` +
  `critical ${counts.critical}, high ${counts.high}, moderate ${counts.moderate}, low ${counts.low}`);
const unexplained = [];
for (const [name, finding] of Object.entries(report.vulnerabilities ?? {})) {
  const advisories = (finding.via ?? []).filter((via) => typeof via === 'object');
  const ids = advisories.map((via) => via.url?.split('/').pop() ?? String(via.source));
  const title = advisories.map((via) => via.title).join('; ') || `through ${finding.via.join(', ')}`;
  const line = `${finding.severity.padEnd(8)} ${name}@${finding.range} ${ids.join(' ')} ${title}`;
  const explained = ids.length > 0 && ids.every((id) => exceptions[id]);
  say(`${line}${explained ? `  [explained: ${ids.map((id) => exceptions[id]).join('; ')}]` : ''}`);
  if ((finding.severity === 'high' || finding.severity === 'critical') && !explained) unexplained.push(line);
}
if (unexplained.length > 0) {
  say(`${unexplained.length} high/critical finding(s) without an explanation in deploy/audit-exceptions.json`);
  finish(1);
}
say('no unexplained high or critical finding');
finish(0);
NODE
