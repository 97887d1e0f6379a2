// Package deploy holds what runs gpcm in containers: the files of the
// image (deploy/image, used by the repository's Containerfile) and the
// compose files (compose.serve.yml: gpcm serve alone; compose.yml:
// mesh-server, receiver and sender on PostgreSQL and S3-compatible
// storage). It has no Go code of its own: its tests check the
// Containerfile, and build the image with Podman where the machine has it.
package deploy
