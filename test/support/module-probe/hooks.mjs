// Module resolve hook: prints every bare package name the process resolves, one per line on
// stderr, prefixed "resolved:" (used to prove what `import "taskmill"` loads).
export async function resolve(specifier, context, next) {
  if (!specifier.startsWith(".") && !specifier.startsWith("/") && !specifier.includes(":"))
    process.stderr.write(`resolved:${specifier}\n`);
  return next(specifier, context);
}
