// sdkgen writes the Python and Go SDKs of the trusted-roots package from its schema.json, with Pulumi's own
// code generators (those of the CLI version the toolchain builds). `pulumi package gen-sdk` would do the same
// through language hosts that cannot be built here. Usage: sdkgen SCHEMA OUTDIR (writes OUTDIR/python, OUTDIR/go).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "trusted-roots sdkgen"

// The Go SDK's module: the generator writes packages, not a go.mod.
const goModule = `module github.com/trusted-roots/pulumi-trusted-roots/sdk/go

go 1.24

require github.com/pulumi/pulumi/sdk/v3 v3.260.0
`

// noPackages loads nothing: the schema references no other package.
type noPackages struct{}

var errNoPackages = errors.New("the trusted-roots schema references no other package")

func (noPackages) LoadPackage(string, *semver.Version) (*schema.Package, error) { return nil, errNoPackages }
func (noPackages) LoadPackageV2(context.Context, *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, errNoPackages
}
func (noPackages) LoadPackageReference(string, *semver.Version) (schema.PackageReference, error) {
	return nil, errNoPackages
}
func (noPackages) LoadPackageReferenceV2(context.Context, *schema.PackageDescriptor) (schema.PackageReference, error) {
	return nil, errNoPackages
}

func main() {
	if len(os.Args) != 3 {
		fail(errors.New("usage: sdkgen SCHEMA OUTDIR"))
	}
	data, err := os.ReadFile(os.Args[1])
	check(err)
	var spec schema.PackageSpec
	check(json.Unmarshal(data, &spec))
	pkg, diags, err := schema.BindSpec(spec, noPackages{}, schema.ValidationOptions{})
	check(err)
	if diags.HasErrors() {
		fail(diags)
	}
	pythonFiles, err := python.GeneratePackage(tool, pkg, nil, noPackages{})
	check(err)
	write(filepath.Join(os.Args[2], "python"), pythonFiles)
	goFiles, err := gogen.GeneratePackage(tool, pkg, nil)
	check(err)
	goFiles["go.mod"] = []byte(goModule)
	write(filepath.Join(os.Args[2], "go"), goFiles)
}

func write(dir string, files map[string][]byte) {
	for name, content := range files {
		path := filepath.Join(dir, name)
		check(os.MkdirAll(filepath.Dir(path), 0o755))
		check(os.WriteFile(path, content, 0o644))
	}
	fmt.Printf("sdkgen: %d files in %s\n", len(files), dir)
}

func check(err error) {
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "sdkgen: %v\n", err)
	os.Exit(1)
}
