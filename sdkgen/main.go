// sdkgen writes the SDKs of the trusted-roots package from its schema.json with Pulumi's own code generators;
// `pulumi package gen-sdk` would run the same code through language hosts that cannot be built here.
// Built twice from these sources: the default build (go.mod: pkg/v3 of the CLI version the toolchain builds)
// writes Python and Go; `-tags dotnet -modfile go.dotnet.mod` writes C# with the last pkg/v3 that carries the .NET
// generator (it moved to pulumi-dotnet, which the Go module proxy here does not serve).
// Usage: sdkgen SCHEMA OUTDIR (each language into OUTDIR/<language>).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "trusted-roots sdkgen"

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
	for language, files := range generate(pkg) {
		write(filepath.Join(os.Args[2], language), files)
	}
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
