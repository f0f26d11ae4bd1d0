/**
 * Builds the package-lock.json of a scratch project that installs the packed taskmill tarball,
 * using only packages this repository's own package-lock.json pins.
 *
 * Why a lockfile: `npm install --offline <range>` needs the registry's metadata document for
 * every range it resolves, and `npm ci` never stores those (it fetches tarballs by their locked
 * URL and integrity). With a lockfile, `npm ci --offline` in the scratch project fetches the same
 * tarballs by integrity from the npm cache that the repository's own `npm ci` filled, so the test
 * needs no network and installs exactly the versions the project is tested with.
 */

/** One entry of a lockfile's `packages` map (the fields this module reads). */
export interface LockEntry {
  readonly version?: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { optional?: boolean }>>;
  readonly [field: string]: unknown;
}

/** A lockfile (version 3: only `packages`). */
export interface Lockfile {
  readonly lockfileVersion: number;
  readonly packages: Readonly<Record<string, LockEntry>>;
}

/** The parent folder of a lock path: "node_modules/a/node_modules/@s/b" -> "node_modules/a". */
function parentOf(path: string): string {
  const at = path.lastIndexOf("node_modules/");
  return at <= 0 ? "" : path.slice(0, at - 1);
}

/**
 * The lock path Node's resolution finds for `name` required from the package at `from`: the
 * nearest `node_modules/<name>` walking up, as npm laid it out.
 */
export function resolveIn(lock: Lockfile, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir === "" ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (lock.packages[candidate] !== undefined) return candidate;
    if (dir === "") return undefined;
    dir = parentOf(dir);
  }
}

/** Names an entry needs at run time: dependencies, non-optional peers, optionals npm installed. */
function neededBy(entry: LockEntry): { name: string; required: boolean }[] {
  const optionalPeers = entry.peerDependenciesMeta ?? {};
  return [
    ...Object.keys(entry.dependencies ?? {}).map((name) => ({ name, required: true })),
    ...Object.keys(entry.peerDependencies ?? {})
      .filter((name) => optionalPeers[name]?.optional !== true)
      .map((name) => ({ name, required: true })),
    // Platform-specific optionals are absent from the lock on other platforms: skip those.
    ...Object.keys(entry.optionalDependencies ?? {}).map((name) => ({ name, required: false })),
  ];
}

/**
 * The lock entries (by path) that `roots` (package names installed at the top level) need,
 * transitively, as this repository's lock lays them out. Throws if one is not in the lock.
 */
export function closure(lock: Lockfile, roots: readonly string[]): Map<string, LockEntry> {
  const found = new Map<string, LockEntry>();
  const visit = (from: string, name: string, required: boolean): void => {
    const path = resolveIn(lock, from, name);
    if (path === undefined) {
      if (required) throw new Error(`${name} (needed by ${from || "the root"}) is not locked`);
      return;
    }
    if (found.has(path)) return;
    const entry = lock.packages[path] as LockEntry;
    found.set(path, entry);
    for (const dep of neededBy(entry)) visit(path, dep.name, dep.required);
  };
  for (const name of roots) visit("", name, true);
  return found;
}

/** What the scratch project installs. */
export interface ScratchInstall {
  /** The packed tarball's file name, in the scratch project's folder. */
  readonly tarball: string;
  /** The tarball's integrity ("sha512-..."). */
  readonly integrity: string;
  /** taskmill's own package.json, as packed. */
  readonly manifest: {
    readonly version: string;
    readonly dependencies?: Readonly<Record<string, string>>;
    readonly [field: string]: unknown;
  };
  /** Other packages from the repository's lock installed next to it (peers, @types/node). */
  readonly extra: readonly string[];
}

/** The scratch project's package.json and package-lock.json, ready to write. */
export function scratchProject(
  lock: Lockfile,
  install: ScratchInstall,
): { packageJson: object; packageLock: object } {
  const { manifest, tarball } = install;
  const deps = closure(lock, [...Object.keys(manifest.dependencies ?? {}), ...install.extra]);
  const rootDeps: Record<string, string> = { taskmill: `file:${tarball}` };
  for (const name of install.extra) {
    const entry = lock.packages[`node_modules/${name}`];
    if (entry?.version === undefined) throw new Error(`${name} is not locked at the top level`);
    rootDeps[name] = entry.version;
  }
  const packages: Record<string, object> = {
    "": { name: "taskmill-scratch", dependencies: rootDeps },
    "node_modules/taskmill": {
      version: manifest.version,
      resolved: `file:${tarball}`,
      integrity: install.integrity,
      license: manifest.license,
      dependencies: manifest.dependencies,
      bin: manifest.bin,
      engines: manifest.engines,
      peerDependencies: manifest.peerDependencies,
      peerDependenciesMeta: manifest.peerDependenciesMeta,
    },
  };
  for (const [path, entry] of deps) {
    // In the repository these are dev dependencies; here they are the app's own.
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...rest } = entry;
    packages[path] = rest;
  }
  return {
    packageJson: {
      name: "taskmill-scratch",
      private: true,
      type: "module",
      dependencies: rootDeps,
    },
    packageLock: { name: "taskmill-scratch", lockfileVersion: 3, requires: true, packages },
  };
}
