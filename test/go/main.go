// A Go program using the generated Go SDK (sdk/go) through Pulumi's Go Automation API with an inline program,
// which needs no language host: it declares a TrustFleet of lab hosts through the trusted-roots plugin. The
// lab test (test/lab/goSdk.spec.ts) runs it once per step and checks the hosts in between.
// Usage: gofleet CONFIG.json up|preview-refresh|up-refresh|destroy; prints one JSON result line on stdout.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/trusted-roots/pulumi-trusted-roots/sdk/go/trustedroots"
)

type host struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	HostKey string `json:"hostKey"`
}

type config struct {
	WorkDir    string `json:"workDir"`
	BackendURL string `json:"backendUrl"`
	Stack      string `json:"stack"`
	PrivateKey string `json:"privateKey"`
	RootPem    string `json:"rootPem"`
	Hosts      []host `json:"hosts"`
}

type result struct {
	Report  interface{}    `json:"report,omitempty"`
	Changes map[string]int `json:"changes,omitempty"`
	Error   string         `json:"error,omitempty"`
}

func program(cfg config) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		servers := trustedroots.ServerArray{}
		for _, h := range cfg.Hosts {
			servers = append(servers, trustedroots.ServerArgs{
				Name:     pulumi.String(h.Name),
				Platform: pulumi.String("debian"),
				Roots:    pulumi.StringArray{pulumi.String(cfg.RootPem)},
				Connection: trustedroots.ConnectionArgs{
					Host:       pulumi.String(h.Address),
					HostKey:    pulumi.String(h.HostKey),
					PrivateKey: pulumi.ToSecret(pulumi.String(cfg.PrivateKey)).(pulumi.StringOutput).ToStringPtrOutput(),
				},
				AfterChange: trustedroots.AfterChangeArgs{Action: pulumi.String("restart"), Preset: pulumi.String("nginx")},
			})
		}
		fleet, err := trustedroots.NewTrustFleet(ctx, "fleet", &trustedroots.TrustFleetArgs{Servers: servers})
		if err != nil {
			return err
		}
		ctx.Export("report", fleet.Report)
		return nil
	}
}

func main() {
	if len(os.Args) != 3 {
		finish(result{Error: "usage: gofleet CONFIG.json up|preview-refresh|up-refresh|destroy"}, 2)
	}
	data, err := os.ReadFile(os.Args[1])
	check(err)
	var cfg config
	check(json.Unmarshal(data, &cfg))
	ctx := context.Background()
	project := workspace.Project{
		Name:    "trusted-roots-go",
		Runtime: workspace.NewProjectRuntimeInfo("go", nil),
		Backend: &workspace.ProjectBackend{URL: cfg.BackendURL},
	}
	stack, err := auto.UpsertStackInlineSource(ctx, cfg.Stack, project.Name.String(), program(cfg), auto.Project(project), auto.WorkDir(cfg.WorkDir))
	check(err)
	switch os.Args[2] {
	case "up", "up-refresh":
		options := []optup.Option{optup.ProgressStreams(os.Stderr)}
		if os.Args[2] == "up-refresh" {
			options = append(options, optup.Refresh())
		}
		up, err := stack.Up(ctx, options...)
		check(err)
		finish(result{Report: up.Outputs["report"].Value, Changes: changes(up.Summary.ResourceChanges)}, 0)
	case "preview-refresh":
		preview, err := stack.Preview(ctx, optpreview.Refresh(), optpreview.ProgressStreams(os.Stderr))
		check(err)
		counts := map[string]int{}
		for kind, count := range preview.ChangeSummary {
			counts[string(kind)] = count
		}
		finish(result{Changes: counts}, 0)
	case "destroy":
		_, err := stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stderr))
		check(err)
		finish(result{}, 0)
	default:
		finish(result{Error: "unknown step " + os.Args[2]}, 2)
	}
}

func changes(summary *map[string]int) map[string]int {
	if summary == nil {
		return map[string]int{}
	}
	return *summary
}

func check(err error) {
	if err != nil {
		finish(result{Error: err.Error()}, 1)
	}
}

func finish(r result, code int) {
	line, _ := json.Marshal(r)
	fmt.Println(string(line))
	os.Exit(code)
}
