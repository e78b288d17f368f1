//go:build !unix

package spool

import "os"

// lockFile does nothing where flock is missing: keep one collector per
// spool folder by configuration there.
func lockFile(*os.File) error { return nil }
