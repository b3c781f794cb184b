package topology

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Load reads files and directories of exported JSON (directories
// recursively, every *.json file in lexical order; files named
// explicitly whatever their extension), resolves them and returns the
// network with the problems found. A file that cannot be read or is not
// JSON makes an error naming it (a *SyntaxError for bad JSON), but the
// other files still load: the network is returned with the error.
func Load(paths ...string) (*Network, []Problem, error) {
	n := New()
	var probs []Problem
	var errs []error
	add := func(path string) {
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, err)
			return
		}
		p, err := n.Add(path, data)
		if err != nil {
			errs = append(errs, err)
		}
		probs = append(probs, p...)
	}
	for _, root := range paths {
		st, err := os.Stat(root)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !st.IsDir() {
			add(root)
			continue
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".json") {
				add(path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	probs = append(probs, n.Resolve()...)
	return n, probs, errors.Join(errs...)
}
