package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gpcm/gpcm/blob"
	"github.com/gpcm/gpcm/blob/fileblob"
	"github.com/gpcm/gpcm/blob/s3blob"
	"github.com/gpcm/gpcm/blob/tier"
	"github.com/gpcm/gpcm/meshserver"
	"github.com/gpcm/gpcm/pgstore"
	"github.com/gpcm/gpcm/receiver"
	"github.com/gpcm/gpcm/sender"
	"github.com/gpcm/gpcm/sqlitestore"
	"github.com/gpcm/gpcm/web"
)

// storageFlags choose where a service keeps its state: by default a SQLite
// file and a payload directory inside the data directory; with --postgres
// (and --s3 for payloads) a database that several processes share. The
// credentials may come apart from the URLs (GPCM_POSTGRES_PASSWORD,
// GPCM_S3_SECRET_KEY or their _FILE forms), so that no secret need be on
// a command line.
type storageFlags struct {
	postgres   string
	pgSchema   string
	pgPassword string
	s3         string
	s3Access   string
	s3Secret   string
}

// register adds --postgres, --postgres-schema and --postgres-password, and
// --s3 with its keys when the service keeps payloads.
func (s *storageFlags) register(fs *flag.FlagSet, payloads bool) {
	fs.StringVar(&s.postgres, "postgres", "", "keep state in PostgreSQL at this `URL` (postgres://USER@HOST:PORT/DB, or keyword=value form) instead of the data directory's SQLite file, so several processes share it")
	fs.StringVar(&s.pgSchema, "postgres-schema", "", "PostgreSQL `schema` for the tables (created if missing; default the URL's search_path)")
	fs.StringVar(&s.pgPassword, "postgres-password", "", "PostgreSQL `password`, instead of one in the --postgres URL (prefer the variable)")
	if payloads {
		fs.StringVar(&s.s3, "s3", "", "keep payloads in S3-compatible storage at this `URL` (s3://HOST:PORT/BUCKET[/PREFIX][?secure=false&create=1] or http(s)://HOST:PORT/BUCKET; keys as ACCESS:SECRET@ or below) instead of DIR/blobs")
		fs.StringVar(&s.s3Access, "s3-access-key", "", "S3 access `key`, instead of one in the --s3 URL")
		fs.StringVar(&s.s3Secret, "s3-secret-key", "", "S3 secret `key`, instead of one in the --s3 URL (prefer the variable)")
	}
}

// check reports flag combinations that make no sense.
func (s *storageFlags) check(cmd, hint string) error {
	switch {
	case s.pgSchema != "" && s.postgres == "":
		return usagef(hint, "%s: --postgres-schema needs --postgres", cmd)
	case s.pgPassword != "" && s.postgres == "":
		return usagef(hint, "%s: --postgres-password (GPCM_POSTGRES_PASSWORD) needs --postgres", cmd)
	case (s.s3Access != "" || s.s3Secret != "") && s.s3 == "":
		return usagef(hint, "%s: --s3-access-key and --s3-secret-key need --s3", cmd)
	}
	return nil
}

// serviceDB is the open database of a service: PostgreSQL or SQLite.
type serviceDB struct {
	pg     *pgstore.DB
	sqlite *sqlitestore.DB
}

// openDB opens PostgreSQL when --postgres is set, else the SQLite file name
// inside dir. pg tunes the PostgreSQL pool (its Schema comes from
// --postgres-schema): long-running services open their connections at
// start (MinConns) rather than with the first requests, which would
// otherwise wait for new backends.
func (s *storageFlags) openDB(ctx context.Context, dir, name string, pg pgstore.Options) (*serviceDB, error) {
	if s.postgres != "" {
		pg.Schema, pg.Password = s.pgSchema, s.pgPassword
		db, err := pgstore.Open(ctx, s.postgres, pg)
		if err != nil {
			return nil, fmt.Errorf("--postgres: %w", err)
		}
		return &serviceDB{pg: db}, nil
	}
	db, err := sqlitestore.Open(ctx, filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	return &serviceDB{sqlite: db}, nil
}

// openOwnDB opens a database of its own for one service: the SQLite file
// name in dir, or, with --postgres, the schema named after --postgres-schema
// (or "public") with _suffix, created if missing.
func (s *storageFlags) openOwnDB(ctx context.Context, dir, name, suffix string) (*serviceDB, error) {
	if s.postgres == "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		return s.openDB(ctx, dir, name, pgstore.Options{})
	}
	schema := s.pgSchema
	if schema == "" {
		schema = "public"
	}
	db, err := pgstore.Open(ctx, s.postgres, pgstore.Options{Schema: schema + "_" + suffix, Password: s.pgPassword})
	if err != nil {
		return nil, fmt.Errorf("--postgres: %w", err)
	}
	return &serviceDB{pg: db}, nil
}

func (d *serviceDB) Mesh() meshserver.Store {
	if d.pg != nil {
		return d.pg.Mesh()
	}
	return d.sqlite.Mesh()
}

// Blobs is the blob store inside the database, for small payloads.
func (d *serviceDB) Blobs() blob.Store {
	if d.pg != nil {
		return d.pg.Blobs()
	}
	return d.sqlite.Blobs()
}

func (d *serviceDB) Receiver() receiver.Store {
	if d.pg != nil {
		return d.pg.Receiver()
	}
	return d.sqlite.Receiver()
}

func (d *serviceDB) Sender() sender.Store {
	if d.pg != nil {
		return d.pg.Sender()
	}
	return d.sqlite.Sender()
}

// Sessions is the web UI's session store.
func (d *serviceDB) Sessions() web.SessionStore {
	if d.pg != nil {
		return d.pg.Sessions()
	}
	return d.sqlite.Sessions()
}

// Users is the web UI's account store.
func (d *serviceDB) Users() web.AccountStore {
	if d.pg != nil {
		return d.pg.Users()
	}
	return d.sqlite.Users()
}

// Close closes the database.
func (d *serviceDB) Close() error {
	if d.pg != nil {
		return d.pg.Close()
	}
	return d.sqlite.Close()
}

// openBlobs returns the payload store: bodies up to tier.DefaultThreshold
// inside db (one row in the same durable commit path as the metadata),
// larger ones in S3 when --s3 is set, else as files in the directory blobs
// inside dir.
func (s *storageFlags) openBlobs(ctx context.Context, dir string, db *serviceDB) (blob.Store, error) {
	var large blob.Store
	if s.s3 != "" {
		cfg, err := s3blob.ParseURL(s.s3)
		if err != nil {
			return nil, fmt.Errorf("--s3: %w", err)
		}
		if s.s3Access != "" {
			cfg.AccessKey = s.s3Access
		}
		if s.s3Secret != "" {
			cfg.SecretKey = s.s3Secret
		}
		st, err := s3blob.OpenConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("--s3: %w", err)
		}
		large = st
	} else {
		fb, err := fileblob.Open(filepath.Join(dir, "blobs"))
		if err != nil {
			return nil, err
		}
		large = fb
	}
	return tier.New(db.Blobs(), large, tier.DefaultThreshold), nil
}

// dataDirMode is the mode of every data directory: it holds databases with
// mailbox passwords and patient data, and payloads.
const dataDirMode fs.FileMode = 0o700

// secretFileMode is the mode of files holding secrets (serve.json, the
// receiver's api-token).
const secretFileMode fs.FileMode = 0o600

// restrictFile gives the file at path secretFileMode if it exists with
// another mode.
func restrictFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Perm() != secretFileMode {
		return os.Chmod(path, secretFileMode)
	}
	return nil
}

// dataDir creates dir with dataDirMode or, if it exists open to other
// users, warns on log and restricts it to dataDirMode.
func dataDir(log *slog.Logger, dir string) error {
	if err := os.MkdirAll(dir, dataDirMode); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		log.Warn("data directory was open to other users; restricting it to its owner", "dir", dir, "mode", fmt.Sprintf("%04o", perm), "now", fmt.Sprintf("%04o", dataDirMode))
		if err := os.Chmod(dir, dataDirMode); err != nil {
			return fmt.Errorf("restricting %s to %04o: %w", dir, dataDirMode, err)
		}
	}
	return nil
}
