package videoauthtest

// maxEntries bounds the maps of codes, grants, sessions and tokens a fake
// keeps, so that a fake serving a long benchmark or a sandbox does not grow
// without end; only Vimeo's live tokens, which never expire, may outgrow it.
// [I] the services' own limits are not published.
const maxEntries = 4096

// makeRoom makes room in m for one more entry: when m is full it drops the
// dead entries, then arbitrary live ones (as a service that caps pending
// codes forgets some). drop, if not nil, sees each dropped value.
func makeRoom[V any](m map[string]V, dead func(V) bool, drop func(V)) {
	if len(m) < maxEntries {
		return
	}
	sweep(m, dead, drop)
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

// dropDead drops m's dead entries, and only those, once m holds *at
// entries (maxEntries while *at is 0). It is for tables whose live entries a
// service keeps for ever (Vimeo's tokens do not expire), which may then grow
// past maxEntries rather than forget a live grant. After a sweep *at is set
// to twice what is left (at least maxEntries), so a table of live entries is
// swept once per doubling, not on every insert.
func dropDead[V any](m map[string]V, at *int, dead func(V) bool) {
	if len(m) < max(*at, maxEntries) {
		return
	}
	sweep(m, dead, nil)
	*at = max(2*len(m), maxEntries)
}

// sweep drops m's dead entries; drop, if not nil, sees each.
func sweep[V any](m map[string]V, dead func(V) bool, drop func(V)) {
	for k, v := range m {
		if dead(v) {
			delete(m, k)
			if drop != nil {
				drop(v)
			}
		}
	}
}
