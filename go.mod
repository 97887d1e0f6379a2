module github.com/gpcm/gpcm

go 1.26
