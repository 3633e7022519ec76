//go:build dotnet

package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"

	"github.com/pulumi/pulumi/pkg/v3/codegen/dotnet"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// localLogo answers the .NET generator's one download (the NuGet package's logo) with a logo drawn here: the
// generator needs no network.
type localLogo struct{}

func (localLogo) RoundTrip(request *http.Request) (*http.Response, error) {
	canvas := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for x := 0; x < 64; x++ {
		for y := 0; y < 64; y++ {
			canvas.Set(x, y, color.RGBA{R: 0x1f, G: 0x5f, B: 0x9f, A: 0xff})
		}
	}
	var encoded bytes.Buffer
	if err := png.Encode(&encoded, canvas); err != nil {
		return nil, err
	}
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(&encoded), Header: http.Header{}, Request: request}, nil
}

func generate(pkg *schema.Package) map[string]map[string][]byte {
	http.DefaultTransport = localLogo{}
	files, err := dotnet.GeneratePackage(tool, pkg, nil, nil)
	check(err)
	return map[string]map[string][]byte{"dotnet": files}
}
