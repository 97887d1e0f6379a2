package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"

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
	// length (default 5 MiB, S3's smallest); it bounds the memory one Put
	// uses, one part buffered (docs/benchmarks.md, "S3 part size").
	PartSize uint64
}

// ParseURL reads an S3 location. Accepted forms:
//
//	http://ACCESS:SECRET@HOST:PORT/BUCKET[/PREFIX][?region=R&create=1]
//	https://ACCESS:SECRET@HOST:PORT/BUCKET[/PREFIX][?region=R&create=1]
//	s3://ACCESS:SECRET@HOST:PORT/BUCKET[/PREFIX][?secure=false&region=R&create=1]
//
// http and https choose TLS by scheme; s3 uses TLS unless secure=false.
// create=1 (or true) makes Open create a missing bucket. Credentials may be
// left out of the URL and set in the Config afterwards (access and secret
// key must then be percent-encoded if they contain reserved characters).
// Errors never repeat the secret key.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the URL with its secret; say only what is wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Config{}, fmt.Errorf("s3blob: URL: %w (want http(s)://ACCESS:SECRET@HOST:PORT/BUCKET or s3://…)", err)
	}
	var c Config
	q := u.Query()
	switch u.Scheme {
	case "http":
	case "https":
		c.Secure = true
	case "s3":
		c.Secure = true
		if v := q.Get("secure"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return Config{}, fmt.Errorf("s3blob: URL: secure=%q: want true or false", v)
			}
			c.Secure = b
		}
	default:
		return Config{}, fmt.Errorf("s3blob: URL scheme %q: want http, https or s3", u.Scheme)
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
		return Config{}, errors.New("s3blob: URL names no bucket (want " + u.Scheme + "://HOST:PORT/BUCKET)")
	}
	c.Bucket = bucket
	if prefix != "" {
		c.Prefix = prefix + "/"
	}
	c.Region = q.Get("region")
	if v := q.Get("create"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("s3blob: URL: create=%q: want 1, true, 0 or false", v)
		}
		c.CreateBucket = b
	}
	return c, nil
}

// Store keeps objects in one bucket.
type Store struct {
	c      *minio.Client
	bucket string
	prefix string
	part   uint64
}

// Open connects to the bucket a URL names (see ParseURL for the forms)
// and checks that it exists, creating it when the URL says create=1.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	cfg, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig connects and checks that the bucket exists (creating it if
// cfg.CreateBucket).
func OpenConfig(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("s3blob: Endpoint and Bucket are required")
	}
	if cfg.Prefix != "" && !strings.HasSuffix(cfg.Prefix, "/") {
		return nil, fmt.Errorf("s3blob: Prefix %q must end in \"/\"", cfg.Prefix)
	}
	part := cfg.PartSize
	if part == 0 {
		part = minPartSize
	}
	if part < minPartSize {
		return nil, fmt.Errorf("s3blob: PartSize %d is below S3's minimum part size of 5 MiB", part)
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
			return nil, fmt.Errorf("s3blob: bucket %q does not exist (create it, or add ?create=1 to the URL)", cfg.Bucket)
		}
		if err := mc.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			// Another process starting at the same time may have won.
			var er minio.ErrorResponse
			if !errors.As(err, &er) || (er.Code != "BucketAlreadyOwnedByYou" && er.Code != "BucketAlreadyExists") {
				return nil, fmt.Errorf("s3blob: create bucket %q: %w", cfg.Bucket, err)
			}
		}
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

// minPartSize is S3's smallest multipart part.
const minPartSize = 5 << 20

// smallObject is the largest body Put sends with one PUT request; larger
// bodies stream as a multipart upload, PartSize at a time.
const smallObject = 1 << 20

var headPool = sync.Pool{New: func() any { b := make([]byte, smallObject); return &b }}

// Put uploads r under key. A body of at most 1 MiB goes in one PUT from a
// pooled buffer; a larger one streams as a multipart upload that holds one
// part (PartSize) in memory at a time. Either way S3 shows the object only
// once it is complete, and a failed upload is aborted.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	k, err := s.key(key)
	if err != nil {
		return 0, err
	}
	bp := headPool.Get().(*[]byte)
	defer headPool.Put(bp)
	head := *bp
	n, err := io.ReadFull(r, head)
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: s.part}
	var info minio.UploadInfo
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		info, err = s.c.PutObject(ctx, s.bucket, k, bytes.NewReader(head[:n]), int64(n), opts)
	case err != nil:
		return 0, fmt.Errorf("s3blob: put %q: read body: %w", key, err)
	default:
		info, err = s.c.PutObject(ctx, s.bucket, k, io.MultiReader(bytes.NewReader(head[:n]), r), -1, opts)
	}
	if err != nil {
		return 0, fmt.Errorf("s3blob: put %q: %w", key, err)
	}
	return info.Size, nil
}

// maxSinglePut is the largest object S3 takes in one PUT request.
const maxSinglePut = 5 << 30

var _ blob.SizedPutter = (*Store)(nil)

// PutSized uploads a body of size bytes. Up to 5 GiB it streams in one PUT
// request, holding none of it in memory (and a gateway that writes parts
// as files then joins them writes it once); larger bodies, and bodies of
// at most 1 MiB, go as Put sends them. A body that is not size bytes long
// fails and leaves nothing stored.
func (s *Store) PutSized(ctx context.Context, key string, r io.Reader, size int64) (int64, error) {
	if size <= smallObject || size > maxSinglePut {
		n, err := s.Put(ctx, key, r)
		if err == nil && n != size {
			_ = s.Delete(context.WithoutCancel(ctx), key)
			return 0, fmt.Errorf("s3blob: put %q: body of %d bytes, want %d", key, n, size)
		}
		return n, err
	}
	k, err := s.key(key)
	if err != nil {
		return 0, err
	}
	// The request carries exactly size bytes; a shorter body fails it,
	// and a longer one is refused once stored.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	body := &sizedBody{r: r, size: size, left: size, fail: cancel}
	info, err := s.c.PutObject(ctx, s.bucket, k, body, size,
		minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true})
	if err != nil {
		if body.err != nil {
			err = body.err
		}
		return 0, fmt.Errorf("s3blob: put %q: %w", key, err)
	}
	if n, _ := r.Read(make([]byte, 1)); n > 0 || info.Size != size {
		_ = s.Delete(context.WithoutCancel(ctx), key)
		return 0, fmt.Errorf("s3blob: put %q: body longer than the %d bytes announced", key, size)
	}
	return info.Size, nil
}

// sizedBody is the body of a streaming PUT of a known size. When it cannot
// give the bytes announced (its reader fails, as when a MESH client drops
// mid-upload, or it is shorter or longer than announced) it cancels the
// upload's context with the first such error: minio-go would otherwise
// retry the request, which cannot read the body again, for about 4 s of
// backoff before failing.
type sizedBody struct {
	r    io.Reader
	size int64
	left int64
	fail context.CancelCauseFunc
	err  error // why the body failed
}

func (b *sizedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.left -= int64(n)
	switch {
	case b.err != nil:
	case b.left < 0:
		// net/http reads past the announced length to refuse the request.
		b.err = fmt.Errorf("body longer than the %d bytes announced", b.size)
	case err == io.EOF && b.left > 0:
		b.err = fmt.Errorf("body ended %d bytes short of its announced size", b.left)
	case err != nil && err != io.EOF:
		b.err = fmt.Errorf("read body: %w", err)
	}
	if b.err != nil {
		b.fail(b.err)
	}
	return n, err
}

// Open streams the object from byte offset off with one ranged GET; a
// missing key fails here rather than on the first Read, and an offset at or
// past the end gives an empty reader.
func (s *Store) Open(ctx context.Context, key string, off int64) (io.ReadCloser, error) {
	k, err := s.key(key)
	if err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fmt.Errorf("s3blob: open %q: negative offset %d", key, off)
	}
	opts := minio.GetObjectOptions{}
	if off > 0 {
		if err := opts.SetRange(off, 0); err != nil {
			return nil, fmt.Errorf("s3blob: open %q at %d: %w", key, off, err)
		}
	}
	body, _, _, err := (&minio.Core{Client: s.c}).GetObject(ctx, s.bucket, k, opts)
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("%w: %q", blob.ErrNotFound, key)
		}
		var er minio.ErrorResponse
		if errors.As(err, &er) && er.Code == "InvalidRange" {
			return io.NopCloser(strings.NewReader("")), nil
		}
		return nil, fmt.Errorf("s3blob: open %q: %w", key, err)
	}
	return body, nil
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

// DeletePrefix removes every object whose key starts with prefix, listing
// and deleting in batches (multi-object DELETE, up to 1000 keys a request).
func (s *Store) DeletePrefix(parent context.Context, prefix string) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel() // stops the lister if a delete fails
	objs := s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true})
	var listErr error
	keys := make(chan minio.ObjectInfo)
	listed := make(chan struct{})
	go func() { // owner: DeletePrefix, which waits for it; ends when the listing ends or ctx is cancelled
		defer close(listed)
		defer close(keys)
		for o := range objs {
			if o.Err != nil {
				listErr = o.Err
				return
			}
			select {
			case keys <- o:
			case <-ctx.Done():
				return
			}
		}
	}()
	var firstErr error
	for e := range s.c.RemoveObjectsWithResult(ctx, s.bucket, keys, minio.RemoveObjectsOptions{}) {
		if e.Err != nil && !notFound(e.Err) && firstErr == nil {
			firstErr = fmt.Errorf("s3blob: delete %q: %w", strings.TrimPrefix(e.ObjectName, s.prefix), e.Err)
			cancel()
		}
	}
	cancel()
	<-listed
	if firstErr != nil {
		return firstErr
	}
	if err := parent.Err(); err != nil {
		return fmt.Errorf("s3blob: delete prefix %q: %w", prefix, err)
	}
	if listErr != nil {
		return fmt.Errorf("s3blob: list %q: %w", prefix, listErr)
	}
	return nil
}

// Ping checks that the bucket is reachable (for health checks).
func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3blob: ping bucket %q: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("s3blob: bucket %q does not exist", s.bucket)
	}
	return nil
}
