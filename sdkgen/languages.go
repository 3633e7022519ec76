//go:build !dotnet

package main

import (
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// The Go SDK's module: the generator writes packages, not a go.mod.
const goModule = `module github.com/trusted-roots/pulumi-trusted-roots/sdk/go

go 1.24

require github.com/pulumi/pulumi/sdk/v3 v3.260.0
`

func generate(pkg *schema.Package) map[string]map[string][]byte {
	pythonFiles, err := python.GeneratePackage(tool, pkg, nil, noPackages{})
	check(err)
	goFiles, err := gogen.GeneratePackage(tool, pkg, nil)
	check(err)
	goFiles["go.mod"] = []byte(goModule)
	return map[string]map[string][]byte{"python": pythonFiles, "go": goFiles}
}
