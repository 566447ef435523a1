// The browser client's ES modules (app/static/js/crypto/*.js): each loads on its own,
// cites the docs/protocol.md section it implements, imports only its siblings or a
// vendored bundle under app/static/vendor/ (no build step, no bare specifiers), the import
// graph has no cycle, and saylau-crypto.js re-exports only what the modules define.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

const dir = new URL('../../app/static/js/crypto/', import.meta.url);
const names = readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
const source = (name) => readFileSync(new URL(name, dir), 'utf8');
const importsOf = (text) => [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)';/gms)].map((m) => m[1]);

test('every module loads on its own and names its protocol section', async () => {
  assert.ok(names.length >= 10, names.join(', '));
  for (const name of names) {
    const text = source(name);
    assert.match(text, new RegExp(`^/\\*\\*\\n \\* crypto/${name.replace('.', '\\.')} — `), name);
    assert.match(text.slice(0, text.indexOf('*/')), /§\d/, `${name}: cite a docs/protocol.md section`);
    assert.ok(text.split('\n').length < 260, `${name}: keep modules small`);
    await import(new URL(name, dir));
  }
});

test('modules import only their siblings, without cycles', () => {
  const graph = new Map();
  for (const name of names) {
    const deps = importsOf(source(name));
    // a sibling, or a vendored bundle (app/static/vendor/<pkg>/, see its SOURCE.md)
    for (const d of deps) assert.match(d, /^(\.\/[a-z-]+\.js|\.\.\/\.\.\/vendor\/[a-z0-9-]+\/[a-z0-9.-]+\.js)$/, `${name} imports ${d}`);
    graph.set(name, deps.filter((d) => d.startsWith('./')).map((d) => d.slice(2)));
  }
  const state = new Map();
  const visit = (n, path) => {
    if (state.get(n) === 'done') return;
    assert.notEqual(state.get(n), 'open', `import cycle: ${[...path, n].join(' → ')}`);
    state.set(n, 'open');
    for (const d of graph.get(n)) {
      assert.ok(graph.has(d), `${n} imports a missing module ${d}`);
      visit(d, [...path, n]);
    }
    state.set(n, 'done');
  };
  for (const n of names) visit(n, []);
});

test('saylau-crypto.js only re-exports the modules', async () => {
  const facade = readFileSync(new URL('../saylau-crypto.js', dir), 'utf8');
  const body = facade.slice(facade.indexOf('*/') + 2);
  assert.doesNotMatch(body, /\b(function|class|const|let|var)\b/);
  const api = await import(new URL('../saylau-crypto.js', dir));
  const defined = new Map();
  for (const name of names) {
    for (const [k, v] of Object.entries(await import(new URL(name, dir)))) defined.set(k, v);
  }
  for (const [k, v] of Object.entries(api)) assert.equal(v, defined.get(k), k);
});
