package mover

// Putting files into place on Windows file systems (NTFS, SMB shares, FAT/exFAT).
//
// On Windows a file is put into place by a rename that never replaces, not by a hard
// link: SMB shares and FAT have no hard links, and the link-then-unlink of the POSIX path
// would need a second step (the unlink) that can fail on its own. The rename is
// NtSetInformationFile(FileRenameInformation, ReplaceIfExists = false) on a handle of the
// temporary file opened relative to the destination's top folder, with the target named
// relative to a handle of its folder opened through the os.Root — so no name from mail,
// and no link planted in the destination, leads outside it. The file system decides
// whether the name is taken, case-insensitively where it is (NTFS, FAT, SMB): taken →
// errExists, and the caller numbers or skips as on_conflict says.
//
// The crash cases of mover/doc.go stay recognisable: a rename is atomic, so after a
// crash either the temporary file exists (not placed yet: place it now) or it is gone
// and the final name holds its content (placed). The "both names are one file" case of
// the hard link does not arise here but is still handled by place.
//
// Fallbacks go by the error the file system gives, never by guessing from its name:
//   - the handle-relative rename refused as unsupported (STATUS_INVALID_PARAMETER,
//     _NOT_SUPPORTED, _INVALID_DEVICE_REQUEST, _NOT_IMPLEMENTED, _INVALID_INFO_CLASS,
//     as some network redirectors may answer) → MoveFileEx without
//     MOVEFILE_REPLACE_EXISTING on the full paths of the two folders as Windows resolved
//     the handles we opened through the root (GetFinalPathNameByHandle), with
//     MOVEFILE_WRITE_THROUGH;
//   - removing: Go's os.Root.Remove asks for a POSIX-semantics delete first and falls
//     back only on some statuses; Wine 8 (and possibly other file systems) answers
//     STATUS_NOT_IMPLEMENTED, which Go returns as ERROR_INVALID_FUNCTION. Then the
//     classic delete (FileDispositionInformation) is used on a handle opened relative
//     to the folder;
//   - flushing a folder (syncDir): Windows flushes only handles with write access, so the
//     folder is opened for adding files and flushed; a file system that cannot flush a
//     folder (FAT, most SMB servers: STATUS_INVALID_PARAMETER, _NOT_SUPPORTED,
//     _INVALID_DEVICE_REQUEST, _ACCESS_DENIED) has the rename written through instead
//     (the temporary file's handle is opened with FILE_WRITE_THROUGH for the rename).
//
// Long paths: every operation names at most one path component relative to a folder
// handle, so MAX_PATH (260) does not limit the depth of the destination; the
// destination folder itself is opened by os.OpenRoot, which adds the \\?\ prefix
// to long absolute paths by itself (os.fixLongPath).

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// renameInsteadOfLink says that linkNoReplace puts files into place with renameNoReplace.
const renameInsteadOfLink = true

// Test seams (mover's Windows tests, run under Wine): force the fallbacks.
var (
	testForceMoveFileEx    bool
	testForceClassicDelete bool
)

// fileAddFile is FILE_ADD_FILE, a folder's right to add a file (= FILE_WRITE_DATA).
const fileAddFile = 0x0002

// fileRenameInformation is FILE_RENAME_INFORMATION (ntifs.h) with a one-character name;
// the real buffer is longer.
type fileRenameInformation struct {
	ReplaceIfExists uint32 // BOOLEAN, padded
	RootDirectory   windows.Handle
	FileNameLength  uint32 // bytes
	FileName        [1]uint16
}

// notCapable reports whether a status says the file system (or the system) does not
// support what was asked, as opposed to a failure of this one file.
func notCapable(err error) bool {
	switch err {
	case windows.STATUS_INVALID_PARAMETER, windows.STATUS_NOT_SUPPORTED,
		windows.STATUS_INVALID_DEVICE_REQUEST, windows.STATUS_NOT_IMPLEMENTED,
		windows.STATUS_INVALID_INFO_CLASS:
		return true
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case windows.ERROR_INVALID_FUNCTION, windows.ERROR_NOT_SUPPORTED,
			windows.ERROR_INVALID_PARAMETER, windows.ERROR_CALL_NOT_IMPLEMENTED:
			return true
		}
	}
	return false
}

// ntError turns an NTSTATUS into the Win32 error Go's os package would return.
func ntError(err error) error {
	var st windows.NTStatus
	if errors.As(err, &st) {
		return st.Errno()
	}
	return err
}

// openAt opens the single component name in the folder dir (never following a link in
// name itself) with access; options adds to FILE_SYNCHRONOUS_IO_NONALERT and
// FILE_OPEN_REPARSE_POINT.
func openAt(dir windows.Handle, name string, access, options uint32) (windows.Handle, error) {
	u, err := windows.NewNTUnicodeString(name)
	if err != nil {
		return windows.InvalidHandle, err
	}
	oa := windows.OBJECT_ATTRIBUTES{RootDirectory: dir, ObjectName: u}
	oa.Length = uint32(unsafe.Sizeof(oa))
	var h windows.Handle
	var iosb windows.IO_STATUS_BLOCK
	err = windows.NtCreateFile(&h, access|windows.SYNCHRONIZE, &oa, &iosb, nil, 0,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		windows.FILE_OPEN, windows.FILE_SYNCHRONOUS_IO_NONALERT|windows.FILE_OPEN_REPARSE_POINT|options, 0, 0)
	if err != nil {
		return windows.InvalidHandle, err
	}
	return h, nil
}

// openFolder opens the folder rel ("." is the top) of the destination through the root.
func (d *dest) openFolder(rel string) (*os.File, error) {
	return d.root.Open(filepath.FromSlash(rel))
}

// renameNoReplace moves the temporary file tmp (in the top folder) to rel unless rel
// exists (errExists), atomically, without a hard link.
func (d *dest) renameNoReplace(tmp, rel string) error {
	dir, base := path.Split(rel)
	if dir = path.Clean(dir); dir == "" {
		dir = "."
	}
	top, err := d.openFolder(".")
	if err != nil {
		return err
	}
	defer top.Close()
	parent := top
	if dir != "." {
		if parent, err = d.openFolder(dir); err != nil {
			return err
		}
		defer parent.Close()
	}
	if !testForceMoveFileEx {
		err = renameAt(windows.Handle(top.Fd()), tmp, windows.Handle(parent.Fd()), base)
		switch {
		case err == nil:
			return nil
		case err == windows.STATUS_OBJECT_NAME_COLLISION:
			return errExists
		case !notCapable(err):
			return ntError(err)
		}
	}
	return moveFileNoReplace(top, tmp, parent, base)
}

// renameAt renames name in the folder from to newName in the folder to, never replacing.
func renameAt(from windows.Handle, name string, to windows.Handle, newName string) error {
	h, err := openAt(from, name, windows.DELETE, windows.FILE_NON_DIRECTORY_FILE|windows.FILE_WRITE_THROUGH)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)
	n16, err := windows.UTF16FromString(newName)
	if err != nil {
		return err
	}
	n16 = n16[:len(n16)-1] // no terminating NUL
	size := int(unsafe.Offsetof(fileRenameInformation{}.FileName)) + 2*len(n16)
	buf := make([]byte, max(size, int(unsafe.Sizeof(fileRenameInformation{}))))
	info := (*fileRenameInformation)(unsafe.Pointer(&buf[0]))
	info.ReplaceIfExists = 0
	info.RootDirectory = to
	info.FileNameLength = uint32(2 * len(n16))
	copy(unsafe.Slice(&info.FileName[0], len(n16)), n16)
	var iosb windows.IO_STATUS_BLOCK
	return windows.NtSetInformationFile(h, &iosb, &buf[0], uint32(len(buf)), windows.FileRenameInformation)
}

// finalPath returns the full path Windows resolved for an open handle (\\?\C:\… or
// \\?\UNC\server\share\…).
func finalPath(f *os.File) (string, error) {
	buf := make([]uint16, 32768) // the longest path Windows has
	n, err := windows.GetFinalPathNameByHandle(windows.Handle(f.Fd()), &buf[0], uint32(len(buf)), 0)
	if err != nil {
		return "", err
	}
	if int(n) >= len(buf) {
		return "", windows.ERROR_FILENAME_EXCED_RANGE
	}
	return windows.UTF16ToString(buf[:n]), nil
}

// moveFileNoReplace is the fallback of renameNoReplace: MoveFileEx without
// MOVEFILE_REPLACE_EXISTING on the paths Windows resolved for the two folders we opened
// through the root (so a link planted since cannot lead outside: the path is the folder
// we hold open, and MoveFileEx does not follow a link in the final component).
func moveFileNoReplace(fromDir *os.File, name string, toDir *os.File, newName string) error {
	from, err := finalPath(fromDir)
	if err != nil {
		return err
	}
	to, err := finalPath(toDir)
	if err != nil {
		return err
	}
	f16, err := windows.UTF16PtrFromString(from + `\` + name)
	if err != nil {
		return err
	}
	t16, err := windows.UTF16PtrFromString(to + `\` + newName)
	if err != nil {
		return err
	}
	err = windows.MoveFileEx(f16, t16, windows.MOVEFILE_WRITE_THROUGH)
	if errors.Is(err, windows.ERROR_ALREADY_EXISTS) || errors.Is(err, windows.ERROR_FILE_EXISTS) {
		return errExists
	}
	return err
}

// remove deletes the file name of the destination. It uses os.Root.Remove (a
// POSIX-semantics delete first), and the classic delete where that is not supported.
func (d *dest) remove(name string) error {
	if !testForceClassicDelete {
		if err := d.root.Remove(name); err == nil || !notCapable(err) {
			return err
		}
	}
	dir, base := filepath.Split(name)
	if dir = filepath.Clean(dir); dir == "" {
		dir = "."
	}
	folder, ferr := d.openFolder(filepath.ToSlash(dir))
	if ferr != nil {
		return ferr
	}
	defer folder.Close()
	// The POSIX delete's refusal (err) only said it is not supported here; the classic
	// delete's answer is the one that counts.
	return deleteClassic(windows.Handle(folder.Fd()), base)
}

// deleteClassic deletes name in the folder dir with FileDispositionInformation: the name
// goes when the last handle to the file is closed (ours is closed on return).
func deleteClassic(dir windows.Handle, name string) error {
	h, err := openAt(dir, name, windows.DELETE, windows.FILE_NON_DIRECTORY_FILE)
	if err != nil {
		return ntError(err)
	}
	defer windows.CloseHandle(h)
	info := uint32(1) // FILE_DISPOSITION_INFORMATION{DeleteFile: TRUE}
	var iosb windows.IO_STATUS_BLOCK
	if err := windows.NtSetInformationFile(h, &iosb, (*byte)(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)), windows.FileDispositionInformation); err != nil {
		return ntError(err)
	}
	return nil
}

// flushFolder flushes the folder rel of the destination. Windows flushes only a handle
// with write access, so the folder, opened through the root, is opened once more for
// adding files (FILE_ADD_FILE; relative to itself with an empty name, as os.Root opens
// "." — no path, so no MAX_PATH). A file system that cannot (see the notes above) is not
// an error: the rename was written through.
func (d *dest) flushFolder(rel string) error {
	dir, err := d.openFolder(rel)
	if err != nil {
		return err
	}
	defer dir.Close()
	h, err := openAt(windows.Handle(dir.Fd()), "", fileAddFile, windows.FILE_DIRECTORY_FILE)
	if err != nil {
		if notCapable(err) || errors.Is(ntError(err), windows.ERROR_ACCESS_DENIED) {
			return nil
		}
		return ntError(err)
	}
	defer windows.CloseHandle(h)
	err = windows.FlushFileBuffers(h)
	if err == nil || notCapable(err) || errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		return nil
	}
	return err
}
