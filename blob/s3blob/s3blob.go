package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/gpcm/gpcm/blob"
)

var _ blob.Store = (*Store)(nil)

// Config locates a bucket.
type Config struct {
	// Endpoint is host:port of the S3 service.
	Endpoint string
	// Secure selects HTTPS.
	Secure    bool
	AccessKey string
	SecretKey string
	Region    string
	Bucket    string
	// Prefix is prepended to every key ("" or ending in "/").
	Prefix string
	// CreateBucket makes the bucket at Open when it does not exist.
	CreateBucket bool
	// PartSize is the multipart part size in bytes for bodies of unknown
	// length (default 16 MiB); it bounds the memory one Put uses.
	PartSize uint64
}

// ParseURL reads "http(s)://ACCESS:SECRET@HOST:PORT/BUCKET[/PREFIX]". The
// scheme chooses TLS; credentials may be left out of the URL and given in
// the Config afterwards.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("s3blob: URL: %w", err)
	}
	var c Config
	switch u.Scheme {
	case "http":
	case "https":
		c.Secure = true
	default:
		return Config{}, fmt.Errorf("s3blob: URL scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" {
		return Config{}, errors.New("s3blob: URL has no host")
	}
	c.Endpoint = u.Host
	if u.User != nil {
		c.AccessKey = u.User.Username()
		c.SecretKey, _ = u.User.Password()
	}
	bucket, prefix, _ := strings.Cut(strings.Trim(u.Path, "/"), "/")
	if bucket == "" {
		return Config{}, errors.New("s3blob: URL names no bucket (want http(s)://HOST:PORT/BUCKET)")
	}
	c.Bucket = bucket
	if prefix != "" {
		c.Prefix = prefix + "/"
	}
	c.Region = u.Query().Get("region")
	c.CreateBucket = u.Query().Get("create") == "1" || u.Query().Get("create") == "true"
	return c, nil
}

// Store keeps objects in one bucket.
type Store struct {
	c      *minio.Client
	bucket string
	prefix string
	part   uint64
}

// Open connects and checks that the bucket exists (creating it if asked).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("s3blob: Endpoint and Bucket are required")
	}
	if cfg.Prefix != "" && !strings.HasSuffix(cfg.Prefix, "/") {
		return nil, fmt.Errorf("s3blob: Prefix %q must end in \"/\"", cfg.Prefix)
	}
	mc, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("s3blob: %w", err)
	}
	ok, err := mc.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3blob: bucket %q: %w", cfg.Bucket, err)
	}
	if !ok {
		if !cfg.CreateBucket {
			return nil, fmt.Errorf("s3blob: bucket %q does not exist", cfg.Bucket)
		}
		if err := mc.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("s3blob: create bucket %q: %w", cfg.Bucket, err)
		}
	}
	part := cfg.PartSize
	if part == 0 {
		part = 16 << 20
	}
	return &Store{c: mc, bucket: cfg.Bucket, prefix: cfg.Prefix, part: part}, nil
}

func (s *Store) key(k string) (string, error) {
	if err := blob.ValidKey(k); err != nil {
		return "", err
	}
	return s.prefix + k, nil
}

func notFound(err error) bool {
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		return er.Code == "NoSuchKey" || er.StatusCode == 404
	}
	return false
}

// Put uploads r under key.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	k, err := s.key(key)
	if err != nil {
		return 0, err
	}
	info, err := s.c.PutObject(ctx, s.bucket, k, r, -1, minio.PutObjectOptions{
		ContentType: "application/octet-stream", PartSize: s.part, DisableContentSha256: false,
	})
	if err != nil {
		return 0, fmt.Errorf("s3blob: put %q: %w", key, err)
	}
	return info.Size, nil
}

// Open streams the object from byte offset off. A HEAD request first makes
// a missing key fail here rather than on the first Read.
func (s *Store) Open(ctx context.Context, key string, off int64) (io.ReadCloser, error) {
	size, err := s.Size(ctx, key)
	if err != nil {
		return nil, err
	}
	if off >= size {
		return io.NopCloser(strings.NewReader("")), nil
	}
	k, _ := s.key(key)
	opts := minio.GetObjectOptions{}
	if off > 0 {
		if err := opts.SetRange(off, size-1); err != nil {
			return nil, fmt.Errorf("s3blob: open %q at %d: %w", key, off, err)
		}
	}
	obj, err := s.c.GetObject(ctx, s.bucket, k, opts)
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("%w: %q", blob.ErrNotFound, key)
		}
		return nil, fmt.Errorf("s3blob: open %q: %w", key, err)
	}
	return obj, nil
}

// Size reports the object's length.
func (s *Store) Size(ctx context.Context, key string) (int64, error) {
	k, err := s.key(key)
	if err != nil {
		return 0, err
	}
	info, err := s.c.StatObject(ctx, s.bucket, k, minio.StatObjectOptions{})
	if err != nil {
		if notFound(err) {
			return 0, fmt.Errorf("%w: %q", blob.ErrNotFound, key)
		}
		return 0, fmt.Errorf("s3blob: stat %q: %w", key, err)
	}
	return info.Size, nil
}

// Delete removes the object; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return fmt.Errorf("s3blob: delete %q: %w", key, err)
	}
	return nil
}

// DeletePrefix removes every object whose key starts with prefix.
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	objs := s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true})
	for o := range objs {
		if o.Err != nil {
			return fmt.Errorf("s3blob: list %q: %w", prefix, o.Err)
		}
		if err := s.c.RemoveObject(ctx, s.bucket, o.Key, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
			return fmt.Errorf("s3blob: delete %q: %w", strings.TrimPrefix(o.Key, s.prefix), err)
		}
	}
	return nil
}
