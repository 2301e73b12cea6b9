// Golden workflow-command strings from the real npm @actions/core (version pinned in
// package.json). Usage: node generate.js cases.json [commands.json]  (stdout when no 2nd arg).
// Each case calls one core function; we record exactly what it wrote to stdout and to the
// runner's environment files, so tests/test_gha_commands.py can demand byte-identical output.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { fileURLToPath } from 'node:url';

// A fixed UUID so the GITHUB_OUTPUT heredoc delimiter is reproducible.
export const FIXED_UUID = '0f1e2d3c-4b5a-4697-8876-5f4e3d2c1b0a';
const require = createRequire(import.meta.url);
require('node:crypto').randomUUID = () => FIXED_UUID;
syncBuiltinESMExports();

const core = await import('@actions/core');
// issueCommand is not exported from the package root: import the file itself.
// (package.json is not exported either, so walk up from the resolved entry point.)
const coreLib = path.dirname(fileURLToPath(import.meta.resolve('@actions/core')));
const corePackage = path.dirname(coreLib);
const { issueCommand } = await import(path.join(corePackage, 'lib', 'command.js'));
const coreVersion = JSON.parse(
  fs.readFileSync(path.join(corePackage, 'package.json'), 'utf8')).version;

function captureStdout(fn) {
  const original = process.stdout.write;
  let captured = '';
  process.stdout.write = (chunk) => { captured += chunk; return true; };
  try {
    fn();
  } finally {
    process.stdout.write = original;
  }
  return captured;
}

// One directory for the whole run, one fixed file per variable: core.summary caches the path
// it saw first, so the summary file must stay where it was.
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'golden-'));
process.on('exit', () => fs.rmSync(workDir, { recursive: true, force: true }));

async function withFile(envName, initial, fn) {
  const file = path.join(workDir, envName);
  fs.writeFileSync(file, initial ?? '');
  process.env[envName] = file;
  try {
    await fn();
    return fs.readFileSync(file, 'utf8');
  } finally {
    delete process.env[envName];
  }
}

function message(c) {
  if (c.errorName === undefined) return c.message;
  const err = new Error(c.message);
  err.name = c.errorName;
  return err;
}

async function run(c) {
  const out = { id: c.id };
  switch (c.call) {
    case 'error':
    case 'warning':
    case 'notice':
      out.stdout = captureStdout(() =>
        c.props === undefined ? core[c.call](message(c)) : core[c.call](message(c), c.props));
      break;
    case 'debug':
    case 'info':
    case 'startGroup':
    case 'setSecret':
      out.stdout = captureStdout(() => core[c.call](c.message));
      break;
    case 'endGroup':
      out.stdout = captureStdout(() => core.endGroup());
      break;
    case 'issueCommand':
      out.stdout = captureStdout(() => issueCommand(c.command, c.props, c.message));
      break;
    case 'setOutput': {
      out.file = await withFile('GITHUB_OUTPUT', c.initial,
        () => { out.stdout = captureStdout(() => core.setOutput(c.name, c.value)); });
      break;
    }
    case 'summary': {
      out.file = await withFile('GITHUB_STEP_SUMMARY', c.initial,
        () => core.summary.emptyBuffer().addRaw(c.text).write());
      break;
    }
    case 'getInput':
    case 'getMultilineInput':
    case 'getBooleanInput':
      process.env[c.envName] = c.env;
      try {
        out.value = core[c.call](c.name, c.options);
      } catch (err) {
        out.error = err.message;
      } finally {
        delete process.env[c.envName];
      }
      break;
    default:
      throw new Error(`unknown call ${c.call} in case ${c.id}`);
  }
  return out;
}

const [casesPath, outPath] = process.argv.slice(2);
const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));
const results = [];
for (const c of cases) results.push(await run(c));
const text = JSON.stringify(
  { generator: '@actions/core', version: coreVersion, uuid: FIXED_UUID, results }, null, 2) + '\n';
if (outPath) fs.writeFileSync(outPath, text); else process.stdout.write(text);
