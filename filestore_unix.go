//go:build unix

package videoauth

import "syscall"

// oNoFollow makes an open fail when the last element of the path is a
// symbolic link (POSIX O_NOFOLLOW), so the FileStore never reads, changes
// or creates a file a link in its directory points to.
const oNoFollow = syscall.O_NOFOLLOW
