// Options merged over defaults, where an option explicitly set to undefined (as callers
// passing their own optional settings through do) keeps the default instead of erasing it.
export function withDefaults<D extends object, O extends object>(defaults: D, opts: O): D & O {
  const set = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  return { ...defaults, ...set } as D & O;
}
