//go:build !unix

package videoauth

// oNoFollow is 0 where open has no O_NOFOLLOW (Windows, Plan 9, wasm): there
// the FileStore refuses a symbolic link it finds with Lstat right before it
// opens the path, which leaves a short window for a link made in between.
const oNoFollow = 0
