package shell

import (
	"errors"

	"github.com/shellpool/shellpool/sessions"
)

// errInvalidArgument is the module's one sentinel for refused input.
var errInvalidArgument = sessions.ErrInvalidArgument

// ErrNoTar is returned by UploadDir and DownloadDir when the session has no
// tar command.
var ErrNoTar = errors.New("shell: the session has no tar command; use a pool whose image has tar (GNU tar or BusyBox), or move files one by one with SessionClient.UploadFile and DownloadFile")

// ErrDirNotFound is returned by DownloadDir when the directory does not
// exist in the session.
var ErrDirNotFound = errors.New("shell: no such directory in the session; check the path (a relative one is relative to /mnt/data)")
