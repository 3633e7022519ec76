# Sourced before every Go command this project runs (the Pulumi CLI and YAML host builds, the SDK generator, the
# Go SDK checks, the Go test program). One set of flags for all of them: a tag changes which files of gRPC and
# os/user are compiled, and so the key in Go's build cache of every package above them; with the same tags the
# generators and the Go programs reuse the packages the toolchain's cold builds compiled (the Pulumi SDK, gRPC
# and their dependencies) instead of compiling them again.
#   -mod=mod          wrapper and generated modules carry no complete go.sum
#   CGO_ENABLED=0     static binaries, no C toolchain needed
#   osusergo          the pure-Go user lookup (what CGO_ENABLED=0 gives os/user anyway)
#   grpcnotrace       gRPC without golang.org/x/net/trace (a debugging page none of these programs serve)
#   GOGC=800          the compiler's and linker's own garbage collector runs far less often: building the YAML
#                     language host from an empty cache took 226-237 CPU-s at Go's default (100), 185 at 800
#                     (195 with it off), its largest compile 614 MB -> 727 MB of memory; it does not change what is
#                     built or the build cache's keys, and a caller's own GOGC wins
#   -gcflags=all=-dwarf=false
#                     no debug information compiled into any package: every binary here is linked without it
#                     anyway (-s -w, as Pulumi's releases are) or run and thrown away. The YAML language host from an
#                     empty cache: 231 and 236 CPU-s (126 s wall) with it, 200 and 203 (108 s) without, same .text size
# A build that names its own -tags (the .NET generator's "dotnet") adds these: a -tags (or -gcflags) on the command
# line replaces the one in GOFLAGS.
GO_TAGS=osusergo,grpcnotrace
export GOFLAGS="-mod=mod -tags=$GO_TAGS -gcflags=all=-dwarf=false" CGO_ENABLED=0 GOGC=${GOGC:-800}
