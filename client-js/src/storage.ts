/** The subset of the Web Storage API the SDK uses (`sessionStorage`, `localStorage`, or your own). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** What survives a page reload: enough to resume the session where the page left it. */
export interface SavedSession {
  sessionId: string;
  resumeToken: string;
  cursors: [string, number][];
}

/** Reads a saved session; undefined when there is none or it is unreadable. */
export function loadSession(storage: StorageLike | undefined, key: string): SavedSession | undefined {
  if (!storage) {
    return undefined;
  }
  try {
    const text = storage.getItem(key);
    if (!text) {
      return undefined;
    }
    const saved = JSON.parse(text) as SavedSession;
    if (
      typeof saved.sessionId !== "string" ||
      typeof saved.resumeToken !== "string" ||
      !Array.isArray(saved.cursors) ||
      !saved.cursors.every((c) => typeof c[0] === "string" && Number.isSafeInteger(c[1]))
    ) {
      return undefined;
    }
    return saved;
  } catch {
    return undefined;
  }
}

/** Saves (or, with undefined, forgets) the session. Storage failures (quota, privacy) are ignored. */
export function saveSession(
  storage: StorageLike | undefined,
  key: string,
  session: SavedSession | undefined,
): void {
  if (!storage) {
    return;
  }
  try {
    if (session) {
      storage.setItem(key, JSON.stringify(session));
    } else {
      storage.removeItem(key);
    }
  } catch {
    // not fatal: the session then only lives in memory
  }
}
