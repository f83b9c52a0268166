import { dirname, relative, resolve } from 'node:path';
import * as ts from 'typescript';

/** A named type that the public declarations use but no entry point exports. */
export interface LeakedType {
  /** The type's name and the file that declares it, relative to the package. */
  name: string;
  file: string;
  /** The exported declaration whose type mentions it. */
  usedBy: string;
}

/**
 * Every named type that the declarations of a package's entry points mention
 * (in an exported declaration, a public member, a parameter, a return type,
 * recursively through the types it finds) and that is declared inside the
 * package without being exported by any entry: a user sees the name in an
 * editor but cannot import it. Private and protected members do not count.
 *
 * @param packageDir the package root (e.g. `dist/libs/process-handoff`)
 * @param entryDts the `.d.ts` of each entry, relative to `packageDir`
 */
export function leakedTypes(packageDir: string, entryDts: readonly string[]): LeakedType[] {
  const root = resolve(packageDir);
  const entries = entryDts.map((e) => resolve(root, e));
  const program = ts.createProgram(entries, { noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [resolve(__dirname, '../../../node_modules/@types')] });
  const checker = program.getTypeChecker();
  const exported = new Set<ts.Symbol>();
  const roots: { symbol: ts.Symbol; name: string }[] = [];
  for (const entry of entries) {
    const source = program.getSourceFile(entry);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`${entry} is not a module with exports`);
    for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
      const target = resolveAlias(checker, symbol);
      exported.add(target);
      roots.push({ symbol: target, name: symbol.getName() });
    }
  }
  const inside = (file: string) => !relative(root, file).startsWith('..') && !file.includes('/node_modules/');
  const leaks = new Map<string, LeakedType>();
  const seen = new Set<ts.Node>();

  const visit = (node: ts.Node, usedBy: string): void => {
    if (seen.has(node)) return;
    seen.add(node);
    if (isHidden(node)) return;
    if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node) || ts.isTypeQueryNode(node)) {
      const nameNode = ts.isTypeReferenceNode(node) ? node.typeName : ts.isTypeQueryNode(node) ? node.exprName : node.expression;
      const found = checker.getSymbolAtLocation(nameNode);
      if (found) follow(resolveAlias(checker, found), usedBy);
    }
    ts.forEachChild(node, (child) => visit(child, usedBy));
  };
  const follow = (symbol: ts.Symbol, usedBy: string): void => {
    if (symbol.flags & ts.SymbolFlags.TypeParameter) return;
    for (const declaration of symbol.declarations ?? []) {
      const file = declaration.getSourceFile().fileName;
      if (!inside(file)) continue;
      if (!exported.has(symbol)) {
        const key = `${symbol.getName()}@${file}`;
        if (!leaks.has(key)) leaks.set(key, { name: symbol.getName(), file: relative(root, file), usedBy });
      }
      visit(declaration, usedBy);
    }
  };
  for (const { symbol, name } of roots) for (const declaration of symbol.declarations ?? []) visit(declaration, name);
  return [...leaks.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function resolveAlias(checker: ts.TypeChecker, symbol: ts.Symbol): ts.Symbol {
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
}

function isHidden(node: ts.Node): boolean {
  if (!ts.canHaveModifiers(node)) return false;
  return (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword);
}

/** For a quick look from the shell: `node -r @swc-node/register public-types.ts dist/libs/<lib> src/index.d.ts ...`. */
if (require.main === module) {
  const [dir, ...dts] = process.argv.slice(2);
  if (!dir || dts.length === 0) throw new Error('usage: public-types.ts <packageDir> <entry.d.ts>...');
  const leaks = leakedTypes(dir, dts);
  for (const leak of leaks) console.log(`${leak.name} (${leak.file}) used by ${leak.usedBy}`);
  console.log(`${leaks.length} leaked type(s) in ${relative(process.cwd(), dirname(resolve(dir, dts[0] as string)))}`);
}
