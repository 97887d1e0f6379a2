package deploy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpcm/gpcm/internal/testutil"
)

// instruction is one Containerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
}

// finalStage returns the instructions of the Containerfile's last stage
// and the whole file's RUN lines.
func finalStage(t *testing.T) (final []instruction, runs []string) {
	t.Helper()
	b, err := os.ReadFile("../Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	var all []instruction
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		trim := strings.TrimSpace(line)
		if cur.Len() == 0 && (trim == "" || strings.HasPrefix(trim, "#")) {
			continue
		}
		cont := strings.HasSuffix(trim, "\\")
		cur.WriteString(strings.TrimSuffix(trim, "\\") + " ")
		if cont {
			continue
		}
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		all = append(all, instruction{strings.ToUpper(cmd), strings.Join(strings.Fields(args), " ")})
		cur.Reset()
	}
	for i, in := range all {
		switch in.cmd {
		case "FROM":
			final = all[i:]
		case "RUN":
			runs = append(runs, in.args)
		}
	}
	return final, runs
}

// TestContainerfile checks the image's definition without building it:
// an empty base, a static binary, a non-root user, the /data volume, the
// health check and the entrypoint.
func TestContainerfile(t *testing.T) {
	final, runs := finalStage(t)
	get := func(cmd string) []string {
		var out []string
		for _, in := range final {
			if in.cmd == cmd {
				out = append(out, in.args)
			}
		}
		return out
	}
	if from := get("FROM"); len(from) != 1 || from[0] != "scratch" {
		t.Errorf("final stage FROM %q, want scratch (nothing but gpcm in the image)", from)
	}
	if !slices.ContainsFunc(runs, func(r string) bool { return strings.Contains(r, "CGO_ENABLED=0 go build") }) {
		t.Errorf("no RUN builds gpcm with CGO_ENABLED=0: %q", runs)
	}
	if u := get("USER"); len(u) != 1 || u[0] != "65532:65532" {
		t.Errorf("USER %q, want 65532:65532 (gpcm in deploy/image/etc/passwd)", u)
	}
	if v := get("VOLUME"); len(v) != 1 || v[0] != `["/data"]` {
		t.Errorf("VOLUME %q, want [\"/data\"]", v)
	}
	if hc := get("HEALTHCHECK"); len(hc) != 1 || !strings.Contains(hc[0], `CMD ["/gpcm", "healthcheck"`) {
		t.Errorf("HEALTHCHECK %q, want CMD [\"/gpcm\", \"healthcheck\", …]", hc)
	}
	if ep := get("ENTRYPOINT"); len(ep) != 1 || ep[0] != `["/gpcm"]` {
		t.Errorf("ENTRYPOINT %q, want [\"/gpcm\"]", ep)
	}
	copies := get("COPY")
	for _, want := range [][]string{{"/out/etc/ /etc/"}, {"/out/gpcm /gpcm"}, {"--chown=65532:65532", "/out/data/ /data/"}} {
		if !slices.ContainsFunc(copies, func(c string) bool {
			return !slices.ContainsFunc(want, func(w string) bool { return !strings.Contains(c, w) })
		}) {
			t.Errorf("no COPY with %q in the final stage: %q", want, copies)
		}
	}
	passwd, err := os.ReadFile("image/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(passwd), "gpcm:x:65532:65532:") {
		t.Errorf("image/etc/passwd has no gpcm user 65532: %s", passwd)
	}
}

// podman returns the podman binary, or skips (fails under
// GPCM_TEST_STRICT=1, where scripts/test has installed it).
func podman(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("podman")
	if err != nil {
		if os.Getenv("GPCM_TEST_STRICT") == "1" {
			t.Fatal("podman not found (GPCM_TEST_STRICT=1; scripts/test installs it from Debian)")
		}
		t.Skip("podman not found: the image is not built (TestContainerfile checks the file)")
	}
	return p
}

func runCmd(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestImage builds the image with Podman from a gpcm built on this machine
// (GPCM_BINARY=prebuilt: no registry is reachable for the Go image), and
// checks its entrypoint, user, volume, health check and that the gpcm
// inside runs.
func TestImage(t *testing.T) {
	pod := podman(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	dist := filepath.Join(dir, "dist")
	if err := os.CopyFS(dist, os.DirFS("image")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dist, "etc", "ssl", "certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	cas, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Fatalf("the host's CA certificates (Debian ca-certificates): %v", err)
	}
	if err := os.WriteFile(filepath.Join(dist, "etc", "ssl", "certs", "ca-certificates.crt"), cas, 0o644); err != nil {
		t.Fatal(err)
	}
	cf, err := os.ReadFile("../Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Containerfile"), cf, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dist, "gpcm")
	if err := testutil.BuildGPCM(bin); err != nil {
		t.Fatal(err)
	}
	checkStatic(t, bin)

	var r [4]byte
	_, _ = rand.Read(r[:])
	tag := "localhost/gpcm-test:" + hex.EncodeToString(r[:])
	// The build leaves its stages' images behind, untagged: remove those
	// that were not there before.
	before := imageIDs(ctx, pod, "-a")
	t.Cleanup(func() {
		for _, id := range imageIDs(context.Background(), pod, "-a", "--filter", "dangling=true") {
			if !slices.Contains(before, id) {
				_, _ = runCmd(context.Background(), pod, "rmi", id)
			}
		}
	})
	out, err := runCmd(ctx, pod, "build", "--format", "docker", "--build-arg", "GPCM_BINARY=prebuilt", "-t", tag, dir)
	if err != nil {
		t.Skipf("podman cannot build images on this machine (TestContainerfile checks the file): %v\n%s", err, tail(out))
	}
	t.Cleanup(func() {
		if out, err := runCmd(context.Background(), pod, "rmi", "-f", tag); err != nil {
			t.Errorf("podman rmi %s: %v\n%s", tag, err, out)
		}
	})

	t.Run("metadata", func(t *testing.T) {
		out, err := runCmd(ctx, pod, "image", "inspect", tag)
		if err != nil {
			t.Fatalf("podman image inspect: %v\n%s", err, out)
		}
		var imgs []struct {
			Config struct {
				User       string
				Entrypoint []string
				Cmd        []string
				Env        []string
				Volumes    map[string]any
				WorkingDir string
			}
			Healthcheck *struct{ Test []string }
		}
		if err := json.Unmarshal([]byte(out), &imgs); err != nil || len(imgs) != 1 {
			t.Fatalf("podman image inspect: %v\n%s", err, out)
		}
		c := imgs[0].Config
		if !slices.Equal(c.Entrypoint, []string{"/gpcm"}) {
			t.Errorf("entrypoint %q, want [/gpcm]", c.Entrypoint)
		}
		if c.User != "65532:65532" {
			t.Errorf("user %q, want 65532:65532", c.User)
		}
		if _, ok := c.Volumes["/data"]; !ok {
			t.Errorf("volumes %v, want /data", c.Volumes)
		}
		if !slices.Contains(c.Env, "GPCM_DATA=/data") {
			t.Errorf("environment %q lacks GPCM_DATA=/data", c.Env)
		}
		if hc := imgs[0].Healthcheck; hc == nil || !slices.Equal(hc.Test[:3], []string{"CMD", "/gpcm", "healthcheck"}) {
			t.Errorf("health check %+v, want CMD /gpcm healthcheck …", hc)
		}
	})
	t.Run("gpcm version", func(t *testing.T) {
		out, err := runCmd(ctx, pod, "run", "--rm", "--no-healthcheck", tag, "version")
		if err == nil {
			if !strings.HasPrefix(out, "gpcm ") {
				t.Errorf("podman run %s version: %q", tag, out)
			}
			return
		}
		// Podman builds here but its runtime may refuse to start a
		// container (a Firecracker VM with hybrid cgroups, no
		// CAP_SYS_RESOURCE): run the image's own binary from its
		// mounted file system instead, then say so.
		refusal := lastLine(out)
		mnt, merr := runCmd(ctx, pod, "image", "mount", tag)
		if merr != nil {
			t.Skipf("this machine refuses to run containers (%s) and to mount the image (%s): the image's metadata is checked, its binary is not", refusal, tail(mnt))
		}
		defer runCmd(context.Background(), pod, "image", "unmount", tag)
		inside := filepath.Join(strings.TrimSpace(mnt), "gpcm")
		checkStatic(t, inside)
		v, err := runCmd(ctx, inside, "version")
		if err != nil || !strings.HasPrefix(v, "gpcm ") {
			t.Fatalf("the image's /gpcm version: %v %q", err, v)
		}
		t.Skipf("this machine refuses to run containers (%s); the image's /gpcm, run from its mounted file system, printed %q", refusal, strings.TrimSpace(v))
	})
}

// imageIDs lists the IDs of podman's images (podman images ARGS).
func imageIDs(ctx context.Context, pod string, args ...string) []string {
	out, err := runCmd(ctx, pod, append([]string{"images", "--no-trunc", "--format", "{{.ID}}"}, args...)...)
	if err != nil {
		return nil
	}
	return strings.Fields(out)
}

// checkStatic fails unless bin is a statically linked ELF executable: the
// image has no C library for a dynamic one.
func checkStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked (has an ELF interpreter): build with CGO_ENABLED=0", bin)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs shared libraries %q", bin, libs)
	}
}

// lastLine returns the last line of a command's output (its error).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// tail returns the last lines of a command's output.
func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, " / ")
}
