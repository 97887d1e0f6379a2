package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/gpcm/gpcm/pgstore"
	"github.com/gpcm/gpcm/web"
)

const usersHelp = `
Usage: gpcm users <subcommand> [flags]

Manages the web UI's login accounts of a gpcm serve data directory (or of
its PostgreSQL database with --postgres), while gpcm serve runs or not:
changes take effect on the next request, and a reset or disabled account's
sessions end at once. Administrators can do the same on the web UI's Users
page.

Subcommands:
  add USERNAME      create an account (prints its password once)
  list              list the accounts
  reset USERNAME    give an account a new password (prints it once)
  disable USERNAME  stop an account signing in and end its sessions
  enable USERNAME   let a disabled account sign in again

Roles: practice (the inbox of the practice --ods), sender (the
transmissions of the sending organisation --ods), admin (users and MESH
admin). Passwords are kept as bcrypt hashes only. A printed password is
random; with --password-stdin the first line of standard input is the
password instead (at least 10 characters).

Examples:
  gpcm users add --data /var/lib/gpcm --role practice --ods X26 --name "Jane Smith" jane.smith
  gpcm users list --data /var/lib/gpcm
  echo "$NEW_PASSWORD" | gpcm users reset --data /var/lib/gpcm --password-stdin jane.smith
  gpcm users disable --postgres postgres://gpcm@db:5432/gpcm jane.smith
`

// usersCmd is the common part of every users subcommand.
type usersCmd struct {
	name string
	fs   *flag.FlagSet
	data *string
	stor storageFlags
}

func newUsersCmd(env *Env, name string) *usersCmd {
	c := &usersCmd{name: name, fs: newFlagSet(env, "users "+name, usersHelp)}
	c.data = c.fs.String("data", "./gpcm-data", "gpcm serve data `directory` (its accounts are in web/web.db)")
	c.stor.register(c.fs, false)
	return c
}

// parse parses args and returns the one USERNAME, or none when want is 0.
func (c *usersCmd) parse(env *Env, args []string, want int) (string, error) {
	if err := parseFlags(c.fs, env, args); err != nil {
		return "", err
	}
	hint := "gpcm users --help"
	if err := c.stor.check("users "+c.name, hint); err != nil {
		return "", err
	}
	if c.fs.NArg() != want {
		if want == 0 {
			return "", usagef(hint, "users %s: unexpected argument %q", c.name, c.fs.Arg(0))
		}
		return "", usagef(hint, "users %s: give one USERNAME", c.name)
	}
	return c.fs.Arg(0), nil
}

// open opens the account store gpcm serve uses.
func (c *usersCmd) open(ctx context.Context, env *Env) (*web.StoreUsers, func(), error) {
	dir := filepath.Join(*c.data, "web")
	if c.stor.postgres == "" {
		// Only add may start a data directory (gpcm serve seeds its demo
		// logins beside the accounts already there); the others on a
		// mistyped --data would read an empty one.
		if _, err := os.Stat(filepath.Join(dir, "web.db")); c.name != "add" && errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("users %s: %s has no accounts database (web/web.db): give the --data directory of gpcm serve, or --postgres", c.name, *c.data)
		}
		if err := dataDir(env.Logger(), dir); err != nil {
			return nil, nil, fmt.Errorf("users %s: %w", c.name, err)
		}
	}
	db, err := c.stor.openDB(ctx, dir, "web.db", pgstore.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("users %s: %w", c.name, err)
	}
	return web.NewStoreUsers(db.Users(), nil), func() { db.Close() }, nil
}

func runUsers(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usersHelp)
		return &exitError{code: ExitUsage}
	}
	subs := map[string]func(context.Context, *Env, []string) error{
		"add": usersAdd, "list": usersList, "reset": usersReset,
		"disable": usersSetDisabled(true), "enable": usersSetDisabled(false),
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(env.Stdout, usersHelp)
		return flag.ErrHelp
	}
	run, ok := subs[args[0]]
	if !ok {
		return usagef("gpcm users --help", "users: unknown subcommand %q", args[0])
	}
	return run(ctx, env, args[1:])
}

// newUserPassword returns the new password: the first line of stdin with
// --password-stdin, else a random one that is printed.
func newUserPassword(env *Env, fromStdin bool) (pw string, random bool, err error) {
	if !fromStdin {
		return web.NewPassword(), true, nil
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", false, fmt.Errorf("--password-stdin: no password on standard input")
	}
	pw = strings.TrimRight(line, "\r\n")
	if err := web.CheckNewPassword(pw); err != nil {
		return "", false, fmt.Errorf("--password-stdin: %v", err)
	}
	return pw, false, nil
}

func usersAdd(ctx context.Context, env *Env, args []string) error {
	c := newUsersCmd(env, "add")
	role := c.fs.String("role", "", "the account's `role`: practice, sender or admin")
	ods := c.fs.String("ods", "", "ODS `code` of the practice (practice) or sending organisation (sender)")
	name := c.fs.String("name", "", "the person's full `name`, as the UI shows it")
	fromStdin := c.fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of making one")
	cmdlineOnly(c.fs, "role", "ods", "name", "password-stdin")
	username, err := c.parse(env, args, 1)
	if err != nil {
		return err
	}
	if err := web.CheckUsername(username); err != nil {
		return usagef("gpcm users --help", "users add: %q: %v", username, err)
	}
	u := web.User{Username: username, Name: strings.TrimSpace(*name), Role: web.Role(*role), ODS: strings.ToUpper(strings.TrimSpace(*ods))}
	if u.Name == "" {
		u.Name = username
	}
	if u.Role == web.RoleAdmin && u.ODS != "" {
		return usagef("gpcm users --help", "users add: an admin account has no --ods")
	}
	pw, random, err := newUserPassword(env, *fromStdin)
	if err != nil {
		return usagef("gpcm users --help", "users add: %v", err)
	}
	if u.PasswordHash, err = web.HashPassword(pw); err != nil {
		return err
	}
	if err := u.Validate(); err != nil {
		return usagef("gpcm users --help", "users add: %v", err)
	}
	users, closeDB, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := users.CreateUser(ctx, u); errors.Is(err, web.ErrConflict) {
		return fmt.Errorf("users add: there is already an account %q (reset its password with gpcm users reset)", username)
	} else if err != nil {
		return fmt.Errorf("users add: %w", err)
	}
	fmt.Fprintf(env.Stdout, "added %s (%s%s)\n", username, u.Role, odsSuffix(u.ODS))
	if random {
		fmt.Fprintf(env.Stdout, "password: %s\n", pw)
	}
	return nil
}

func odsSuffix(ods string) string {
	if ods == "" {
		return ""
	}
	return " " + ods
}

func usersList(ctx context.Context, env *Env, args []string) error {
	c := newUsersCmd(env, "list")
	asJSON := c.fs.Bool("json", false, "print the accounts as JSON")
	cmdlineOnly(c.fs, "json")
	if _, err := c.parse(env, args, 0); err != nil {
		return err
	}
	users, closeDB, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer closeDB()
	list, err := users.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("users list: %w", err)
	}
	if *asJSON {
		type row struct {
			Username string   `json:"username"`
			Name     string   `json:"name"`
			Role     web.Role `json:"role"`
			ODS      string   `json:"ods,omitempty"`
			Disabled bool     `json:"disabled"`
		}
		rows := make([]row, len(list))
		for i, u := range list {
			rows[i] = row{u.Username, u.Name, u.Role, u.ODS, u.Disabled}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tROLE\tODS\tSTATUS\tNAME")
	for _, u := range list {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Username, u.Role, u.ODS, status, u.Name)
	}
	return tw.Flush()
}

func usersReset(ctx context.Context, env *Env, args []string) error {
	c := newUsersCmd(env, "reset")
	fromStdin := c.fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of making one")
	cmdlineOnly(c.fs, "password-stdin")
	username, err := c.parse(env, args, 1)
	if err != nil {
		return err
	}
	pw, random, err := newUserPassword(env, *fromStdin)
	if err != nil {
		return usagef("gpcm users --help", "users reset: %v", err)
	}
	users, closeDB, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer closeDB()
	err = changeUser(ctx, users, username, func(u *web.User) error {
		h, err := web.HashPassword(pw)
		u.PasswordHash = h
		return err
	})
	if err != nil {
		return fmt.Errorf("users reset: %w", err)
	}
	fmt.Fprintf(env.Stdout, "password of %s reset; its sessions have ended\n", username)
	if random {
		fmt.Fprintf(env.Stdout, "password: %s\n", pw)
	}
	return nil
}

func usersSetDisabled(disable bool) func(context.Context, *Env, []string) error {
	name := map[bool]string{true: "disable", false: "enable"}[disable]
	return func(ctx context.Context, env *Env, args []string) error {
		c := newUsersCmd(env, name)
		username, err := c.parse(env, args, 1)
		if err != nil {
			return err
		}
		users, closeDB, err := c.open(ctx, env)
		if err != nil {
			return err
		}
		defer closeDB()
		if err := changeUser(ctx, users, username, func(u *web.User) error { u.Disabled = disable; return nil }); err != nil {
			return fmt.Errorf("users %s: %w", name, err)
		}
		fmt.Fprintf(env.Stdout, "%sd %s\n", name, username)
		return nil
	}
}

// changeUser loads username, applies change and stores the account.
func changeUser(ctx context.Context, users *web.StoreUsers, username string, change func(*web.User) error) error {
	u, err := users.FindUser(ctx, username)
	if errors.Is(err, web.ErrNotFound) {
		return fmt.Errorf("there is no account %q (list them with gpcm users list)", username)
	}
	if err != nil {
		return err
	}
	if err := change(&u); err != nil {
		return err
	}
	return users.UpdateUser(ctx, u)
}
