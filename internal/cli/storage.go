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
// (and --s3 for payloads) a database that several processes share.
type storageFlags struct {
	postgres string
	pgSchema string
	s3       string
}

// register adds --postgres and --postgres-schema, and --s3 when the
// service keeps payloads.
func (s *storageFlags) register(fs *flag.FlagSet, payloads bool) {
	fs.StringVar(&s.postgres, "postgres", "", "keep state in PostgreSQL at this `URL` (postgres://USER:PASS@HOST:PORT/DB) instead of the data directory's SQLite file, so several processes share it")
	fs.StringVar(&s.pgSchema, "postgres-schema", "", "PostgreSQL `schema` for the tables (created if missing; default the URL's search_path)")
	if payloads {
		fs.StringVar(&s.s3, "s3", "", "keep payloads in S3-compatible storage at this `URL` (s3://KEY:SECRET@HOST:PORT/BUCKET[?secure=false&create=1] or http(s)://KEY:SECRET@HOST:PORT/BUCKET) instead of DIR/blobs")
	}
}

// check reports flag combinations that make no sense.
func (s *storageFlags) check(cmd, hint string) error {
	if s.pgSchema != "" && s.postgres == "" {
		return usagef(hint, "%s: --postgres-schema needs --postgres", cmd)
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
		pg.Schema = s.pgSchema
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
		st, err := s3blob.Open(ctx, s.s3)
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
