package videoauthtest

// maxEntries bounds every map of codes, grants, sessions and tokens a fake
// keeps, so that a fake serving a long benchmark or a sandbox does not grow
// without end. [I] the services' own limits are not published.
const maxEntries = 4096

// makeRoom makes room in m for one more entry: when m is full it drops the
// dead entries, then arbitrary live ones (as a service that caps pending
// codes forgets the oldest). drop, if not nil, sees each dropped value.
func makeRoom[V any](m map[string]V, dead func(V) bool, drop func(V)) {
	if len(m) < maxEntries {
		return
	}
	dropDead(m, dead, drop)
	for k, v := range m {
		if len(m) < maxEntries {
			break
		}
		delete(m, k)
		if drop != nil {
			drop(v)
		}
	}
}

// dropDead drops m's dead entries once m is full, and only those: for
// tables whose live entries a service keeps for ever (Vimeo's tokens do not
// expire), m may then grow past maxEntries rather than forget a live grant.
func dropDead[V any](m map[string]V, dead func(V) bool, drop func(V)) {
	if len(m) < maxEntries {
		return
	}
	for k, v := range m {
		if dead(v) {
			delete(m, k)
			if drop != nil {
				drop(v)
			}
		}
	}
}
