// Package config reads Footfall's YAML configuration file: the sites it
// serves and, as the product grows, their consent policies, partners and
// retention. Unknown keys are errors, so a typo never silently does nothing.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/footfall/footfall/store"
)

// Config is the whole configuration file.
type Config struct {
	// Sites are registered at start-up if the store does not have them yet.
	Sites []Site `yaml:"sites"`
}

// Site is one website.
type Site struct {
	Domain string `yaml:"domain"`
}

// Load reads and validates the file at path, reporting every problem at once.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(b)
}

// Parse reads and validates a configuration.
func Parse(b []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) validate() error {
	var errs []error
	seen := map[string]bool{}
	for i := range c.Sites {
		d, err := store.NormalizeDomain(c.Sites[i].Domain)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: sites[%d]: %w", i, err))
			continue
		}
		if seen[d] {
			errs = append(errs, fmt.Errorf("config: sites[%d]: %s is listed twice", i, d))
		}
		seen[d] = true
		c.Sites[i].Domain = d
	}
	return errors.Join(errs...)
}
