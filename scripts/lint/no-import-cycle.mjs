// ESLint rule `tabgrid/no-import-cycle`: no module may reach itself through its imports, and
// type-only imports count. eslint-plugin-import-x's `no-cycle` skips every `import type` edge with
// no option to keep them (lib/rules/no-cycle.js), and type-only cycles are what our hubs grew:
// they tie modules together as surely as value cycles do, only the bundler cannot see it.
//
// How: every file's imports (`import`, `import type`, `export … from`, `import()`, `require()`)
// are resolved with TypeScript's own module resolution (Bundler mode: `./x.js` finds `./x.ts`);
// imports that resolve into node_modules (other packages, workspace ones included) are not
// edges, so a cycle is always inside one package. Strongly connected components (Tarjan) are
// computed once per lint process over the files reached, so each file costs one lookup.
// The graph is cached for the process: one CLI run sees one snapshot of the files.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const compilerOptions = {
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  allowJs: true,
  jsx: ts.JsxEmit.Preserve,
};
const resolutionCache = ts.createModuleResolutionCache(process.cwd(), (f) => f, compilerOptions);

/** file → resolved in-package imports: [{ specifier, target }] */
const edges = new Map();
/** Tarjan state, kept across files of one run (roots are added as files are linted). */
const indexOf = new Map();
const lowOf = new Map();
const componentOf = new Map();
let nextIndex = 0;

function resolveImport(specifier, fromFile) {
  const { resolvedModule } = ts.resolveModuleName(
    specifier,
    fromFile,
    compilerOptions,
    ts.sys,
    resolutionCache,
  );
  if (!resolvedModule || resolvedModule.isExternalLibraryImport) return undefined;
  const target =
    ts.sys.realpath?.(resolvedModule.resolvedFileName) ?? resolvedModule.resolvedFileName;
  return target.includes(`${path.sep}node_modules${path.sep}`) ? undefined : target;
}

function importsOf(file, text) {
  let found = edges.get(file);
  if (found) return found;
  if (text === undefined) {
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      text = '';
    }
  }
  const { importedFiles } = ts.preProcessFile(text, true, true);
  found = [];
  for (const { fileName } of importedFiles) {
    const target = resolveImport(fileName, file);
    if (target !== undefined && target !== file) found.push({ specifier: fileName, target });
  }
  edges.set(file, found);
  return found;
}

// Iterative Tarjan from `root`: deep import chains must not overflow the stack.
function assignComponents(root) {
  if (indexOf.has(root)) return;
  const stack = [];
  const onStack = new Set();
  const work = [{ file: root, next: 0 }];
  indexOf.set(root, nextIndex);
  lowOf.set(root, nextIndex++);
  stack.push(root);
  onStack.add(root);
  while (work.length > 0) {
    const frame = work[work.length - 1];
    const out = importsOf(frame.file);
    if (frame.next < out.length) {
      const { target } = out[frame.next++];
      if (!indexOf.has(target)) {
        indexOf.set(target, nextIndex);
        lowOf.set(target, nextIndex++);
        stack.push(target);
        onStack.add(target);
        work.push({ file: target, next: 0 });
      } else if (onStack.has(target)) {
        lowOf.set(frame.file, Math.min(lowOf.get(frame.file), indexOf.get(target)));
      }
      continue;
    }
    work.pop();
    const parent = work[work.length - 1];
    if (parent) lowOf.set(parent.file, Math.min(lowOf.get(parent.file), lowOf.get(frame.file)));
    if (lowOf.get(frame.file) === indexOf.get(frame.file)) {
      const component = new Set();
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.add(member);
      } while (member !== frame.file);
      for (const m of component) componentOf.set(m, component);
    }
  }
}

// Shortest way back from `from` to `to` inside their component, for the message.
function routeBack(from, to, component) {
  const cameFrom = new Map([[from, undefined]]);
  const queue = [from];
  while (queue.length > 0) {
    const file = queue.shift();
    if (file === to) break;
    for (const { target } of importsOf(file)) {
      if (component.has(target) && !cameFrom.has(target)) {
        cameFrom.set(target, file);
        queue.push(target);
      }
    }
  }
  const route = [];
  for (let at = to; at !== undefined; at = cameFrom.get(at)) route.unshift(at);
  return route;
}

/** @type {import('eslint').Rule.RuleModule} */
export const noImportCycle = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Forbid import cycles, type-only imports included.',
      url: 'docs/architecture.md#no-import-cycles',
    },
    schema: [],
    messages: {
      cycle:
        'Import cycle: {{route}}. Type-only imports count too. Move what both sides need into a module that imports neither, or inject it (docs/architecture.md#no-import-cycles).',
    },
  },
  create(context) {
    const file = context.physicalFilename;
    if (!path.isAbsolute(file)) return {};
    const sources = [];
    const collect = (node) => {
      if (node.source && node.source.type === 'Literal' && typeof node.source.value === 'string') {
        sources.push(node.source);
      }
    };
    return {
      ImportDeclaration: collect,
      ExportNamedDeclaration: collect,
      ExportAllDeclaration: collect,
      ImportExpression: collect,
      CallExpression(node) {
        const [first] = node.arguments;
        if (
          node.callee.type === 'Identifier' &&
          node.callee.name === 'require' &&
          first?.type === 'Literal'
        ) {
          if (typeof first.value === 'string') sources.push(first);
        }
      },
      TSImportType(node) {
        const literal = node.argument?.literal ?? node.argument;
        if (literal?.type === 'Literal' && typeof literal.value === 'string') sources.push(literal);
      },
      'Program:exit'() {
        importsOf(file, context.sourceCode.text);
        assignComponents(file);
        const component = componentOf.get(file);
        if (!component || component.size < 2) return;
        const cwd = context.cwd;
        for (const source of sources) {
          const target = resolveImport(source.value, file);
          if (target === undefined || !component.has(target)) continue;
          const route = [file, ...routeBack(target, file, component)];
          context.report({
            node: source,
            messageId: 'cycle',
            data: { route: route.map((f) => path.relative(cwd, f)).join(' → ') },
          });
        }
      },
    };
  },
};

export default { meta: { name: 'tabgrid' }, rules: { 'no-import-cycle': noImportCycle } };
