// Command modproxy lays out a GOPROXY directory (for a file:// GOPROXY)
// serving every module of the repository at one version, built from the
// working tree the way a module proxy builds it from a tag, so CI can go
// get the modules as a consumer does before anything is published.
//
//	go -C .ci/tools run ./modproxy -root ../.. -version v0.1.0 -out DIR
//
// The modules are the repository's directories holding a go.mod, except
// those under testdata or under a directory whose name begins with "." or
// "_" (the go command skips those in ./... patterns; CI's own tools, this
// one included, live there). For each module it writes DIR/<path>/@v/list,
// <version>.info, <version>.mod (the go.mod as it is) and <version>.zip,
// made by golang.org/x/mod/zip.CreateFromDir: the module's files without
// nested modules, VCS directories, vendored packages or irregular files,
// checked against the module zip rules. It prints one line per module:
//
//	path<TAB>dir<TAB>kind<TAB>h1 of the zip<TAB>h1 of the go.mod
//
// (dir relative to the root; kind "lib" when the module has Go code that is
// not a test, "test-only" when it holds only tests and at most a package
// comment), the sums a consumer's go.sum must hold. It first checks the go.mod files for what would make the
// modules differ for a consumer from the repository's build: a requirement
// of one of the repository's modules at any other version than -version, or
// without a replace pointing at its directory (builds in the repository use
// the working tree); a replace of anything else (a consumer ignores it); a
// replace in the root module, or a root module requiring a nested one.
package main

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

// mod is one module of the repository.
type mod struct {
	path string        // module path
	dir  string        // absolute directory
	rel  string        // directory relative to the root, slash-separated ("." for the root)
	file *modfile.File // its parsed go.mod
	data []byte        // its go.mod as it is
}

func main() {
	root := flag.String("root", "", "the repository's root directory (holding the root go.mod)")
	version := flag.String("version", "", "the version to serve every module at, e.g. v0.1.0")
	out := flag.String("out", "", "the GOPROXY directory to write (created if missing)")
	checkMods := flag.Bool("check", true, "check the go.mod files first (-check=false lays out the proxy anyway, to see what a consumer would meet)")
	flag.Parse()
	if *root == "" || *out == "" || !semver.IsValid(*version) || semver.Canonical(*version) != *version || semver.Prerelease(*version) != "" {
		fmt.Fprintln(os.Stderr, "usage: modproxy -root DIR -version vX.Y.Z -out DIR")
		os.Exit(2)
	}
	if err := run(*root, *version, *out, *checkMods, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "modproxy:", err)
		os.Exit(1)
	}
}

func run(root, version, out string, checkMods bool, w io.Writer) error {
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	mods, err := findModules(root)
	if err != nil {
		return err
	}
	if checkMods {
		if err := check(mods, version); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	for _, m := range mods {
		line, err := publish(m, version, info, out)
		if err != nil {
			return fmt.Errorf("%s: %w", m.path, err)
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

// findModules returns the repository's modules, the root's first, the
// others by directory.
func findModules(root string) ([]*mod, error) {
	var mods []*mod
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() != "go.mod" || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := modfile.Parse(p, data, nil)
		if err != nil {
			return err
		}
		if f.Module == nil {
			return fmt.Errorf("%s: no module line", p)
		}
		dir := filepath.Dir(p)
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			return err
		}
		mods = append(mods, &mod{path: f.Module.Mod.Path, dir: dir, rel: filepath.ToSlash(rel), file: f, data: data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].rel < mods[j].rel }) // "." first
	if len(mods) == 0 || mods[0].rel != "." {
		return nil, fmt.Errorf("%s: no go.mod at the root", root)
	}
	return mods, nil
}

// check reports every go.mod fact that would make a consumer's build of
// the modules differ from the repository's.
func check(mods []*mod, version string) error {
	byPath := map[string]*mod{}
	for _, m := range mods {
		if o, ok := byPath[m.path]; ok {
			return fmt.Errorf("module %s is declared in both %s and %s", m.path, o.rel, m.rel)
		}
		byPath[m.path] = m
	}
	rootMod := mods[0]
	var errs []error
	for _, m := range mods {
		where := path.Join(m.rel, "go.mod")
		if m != rootMod && !strings.HasPrefix(m.path, rootMod.path+"/") {
			errs = append(errs, fmt.Errorf("%s: module %s is not under the root module's path %s", where, m.path, rootMod.path))
		}
		replaced := map[string]string{} // module path → replacement directory, cleaned, absolute
		for _, r := range m.file.Replace {
			target, local := byPath[r.Old.Path], modfile.IsDirectoryPath(r.New.Path)
			switch {
			case m == rootMod:
				errs = append(errs, fmt.Errorf("%s: replace %s: the root module must have none (go install ...@%s refuses a module with replace directives)", where, r.Old.Path, version))
			case target == nil:
				errs = append(errs, fmt.Errorf("%s: replace %s: consumers ignore a replace, so they would build another %s than the repository does", where, r.Old.Path, r.Old.Path))
			case !local || r.Old.Version != "":
				errs = append(errs, fmt.Errorf("%s: replace %s => %s %s: the repository's own modules are replaced by their directories only", where, r.Old.Path, r.New.Path, r.New.Version))
			default:
				replaced[r.Old.Path] = filepath.Clean(filepath.Join(m.dir, filepath.FromSlash(r.New.Path)))
			}
		}
		for _, r := range m.file.Require {
			target := byPath[r.Mod.Path]
			if target == nil {
				continue
			}
			if m == rootMod {
				errs = append(errs, fmt.Errorf("%s: the root module requires %s: its importers would download that module's dependencies", where, r.Mod.Path))
				continue
			}
			if r.Mod.Version != version {
				errs = append(errs, fmt.Errorf("%s: requires %s %s, want %s: a consumer resolves the requirement itself, and only %s is published", where, r.Mod.Path, r.Mod.Version, version, version))
			}
			if dir, ok := replaced[r.Mod.Path]; !ok {
				errs = append(errs, fmt.Errorf("%s: requires %s without a replace => its directory (%s): builds in the repository would not use the working tree", where, r.Mod.Path, relTo(m.dir, target.dir)))
			} else if dir != target.dir {
				errs = append(errs, fmt.Errorf("%s: replace %s => %s, which is not that module's directory (%s)", where, r.Mod.Path, relTo(m.dir, dir), relTo(m.dir, target.dir)))
			}
		}
	}
	return errors.Join(errs...)
}

func relTo(base, p string) string {
	if r, err := filepath.Rel(base, p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}

// publish writes m's files at version into the GOPROXY directory out and
// returns its summary line.
func publish(m *mod, version string, info []byte, out string) (string, error) {
	esc, err := module.EscapePath(m.path)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(out, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	base := filepath.Join(dir, version)
	if err := os.WriteFile(filepath.Join(dir, "list"), []byte(version+"\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(base+".info", info, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(base+".mod", m.data, 0o644); err != nil {
		return "", err
	}
	zf, err := os.Create(base + ".zip")
	if err != nil {
		return "", err
	}
	mv := module.Version{Path: m.path, Version: version}
	if err := modzip.CreateFromDir(zf, mv, m.dir); err != nil {
		zf.Close()
		return "", err
	}
	if err := zf.Close(); err != nil {
		return "", err
	}
	kind, err := kindOf(mv, base+".zip")
	if err != nil {
		return "", err
	}
	zipSum, err := dirhash.HashZip(base+".zip", dirhash.Hash1)
	if err != nil {
		return "", err
	}
	// The go.mod line of go.sum: the hash of a one-file tree "go.mod".
	modSum, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(string(m.data))), nil
	})
	if err != nil {
		return "", err
	}
	return strings.Join([]string{m.path, m.rel, kind, zipSum, modSum}, "\t"), nil
}

// kindOf checks the module zip as the go command does when it downloads
// one, and returns "lib" when the zip holds Go code that is not a test: a
// non-test Go file, in a directory the go command builds (none of its
// elements testdata or beginning with "." or "_"), with at least one
// declaration. Otherwise it returns "test-only": a module of tests, with at
// most a doc.go for its package comment, has nothing to import.
func kindOf(mv module.Version, zipFile string) (string, error) {
	if _, err := modzip.CheckZip(mv, zipFile); err != nil {
		return "", err
	}
	z, err := zip.OpenReader(zipFile)
	if err != nil {
		return "", err
	}
	defer z.Close()
	prefix := mv.Path + "@" + mv.Version + "/"
	for _, zf := range z.File {
		name := strings.TrimPrefix(zf.Name, prefix)
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		built := true
		for _, elem := range strings.Split(name, "/") {
			if elem == "testdata" || strings.HasPrefix(elem, ".") || strings.HasPrefix(elem, "_") {
				built = false
			}
		}
		if !built {
			continue
		}
		r, err := zf.Open()
		if err != nil {
			return "", err
		}
		src, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return "", err
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.SkipObjectResolution)
		if err != nil {
			return "", err
		}
		if len(f.Decls) > 0 {
			return "lib", nil
		}
	}
	return "test-only", nil
}
