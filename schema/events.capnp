# Events recorded by aa-record. This file is the on-disk contract of session files.
#
# EVOLUTION RULE: ordinals are append-only. Add fields with new ordinals only; never
# renumber, retype, rename-with-new-meaning, remove, or change a default. Readers of an
# older file see new fields at their defaults.
#
# Units: times are nanoseconds of CLOCK_MONOTONIC (the kernel's bpf_ktime_get_ns);
# the session header holds the monotonic start and the wall-clock offset.
# Paths, argv, comm and payloads are Data: Linux does not promise UTF-8.

@0x996b6757af6607a1;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("aa::schema");

enum TlsDirection {
  write @0;   # plaintext handed to SSL_write*, i.e. sent by the traced process
  read @1;    # plaintext returned by SSL_read*, i.e. received
}

enum CloseReason {
  explicit @0;   # close(2) on the last fd referring to the open file
  exit @1;       # the process exited with the file still open
  exec @2;       # closed by exec (O_CLOEXEC)
  replaced @3;   # its fd was replaced by dup2/dup3 onto it
  unknown @4;
}

struct Event {
  seq @0 :UInt64;    # session-wide sequence number; starts at 0, increases by 1, no gaps
  tNs @1 :UInt64;    # CLOCK_MONOTONIC ns when the event happened (syscall exit for results)
  pid @2 :UInt32;    # thread-group id (what userspace calls the pid)
  tid @3 :UInt32;    # thread id
  comm @4 :Data;     # thread name at the time (<= 16 bytes, no NUL)

  union {
    exec :group {
      path @5 :Data;              # absolute path of the executable run
      argv @6 :List(Data);        # arguments, argv[0] first
      argvTruncated @7 :Bool;     # more arguments or bytes existed than were captured
      cwd @8 :Data;               # working directory at exec
      uid @9 :UInt32;
      gid @10 :UInt32;
      ppid @11 :UInt32;
      filename @77 :Data;
        # the file named in the execve (bprm->filename), made absolute against cwd when
        # relative. For a #! script it is the script, while path is the interpreter that
        # ran it and argv is as the kernel passed it (interpreter, script, arguments).
        # Empty in sessions recorded before it existed.
    }
    fork :group {
      childPid @12 :UInt32;       # the new process (tgid); the parent is Event.pid
    }
    exit :group {
      exitCode @13 :Int32;        # exit status (0..255) when not killed by a signal
      signal @14 :Int32;          # terminating signal number, 0 if exited normally
    }
    fileOpen :group {
      path @15 :Data;             # absolute, resolved against dirfd or cwd
      flags @16 :UInt32;          # open(2) flags as passed (O_* bits)
      mode @17 :UInt32;           # creation mode as passed
      ret @18 :Int64;             # the new fd, or -errno
    }
    fileClose :group {
      path @19 :Data;
      fd @20 :Int32;
      bytesRead @21 :UInt64;      # summed over every read of this open file
      bytesWritten @22 :UInt64;
      reads @23 :UInt32;          # number of read calls that moved data or failed
      writes @24 :UInt32;
      reason @25 :CloseReason;
    }
    fileRead :group {             # one read call (only with --io=calls)
      path @26 :Data;
      fd @27 :Int32;
      ret @28 :Int64;             # bytes read, or -errno
    }
    fileWrite :group {            # one write call (only with --io=calls)
      path @29 :Data;
      fd @30 :Int32;
      ret @31 :Int64;             # bytes written, or -errno
    }
    fileRename :group {
      oldPath @32 :Data;
      newPath @33 :Data;
      flags @34 :UInt32;          # renameat2 flags
      ret @35 :Int64;             # 0 or -errno
    }
    fileUnlink :group {
      path @36 :Data;
      ret @37 :Int64;
    }
    fileMkdir :group {
      path @38 :Data;
      mode @39 :UInt32;
      ret @40 :Int64;
    }
    fileRmdir :group {
      path @41 :Data;
      ret @42 :Int64;
    }
    fileTruncate :group {
      path @43 :Data;
      fd @44 :Int32;              # -1 for truncate(2) by path
      length @45 :Int64;          # new length in bytes
      ret @46 :Int64;
    }
    fileChmod :group {
      path @47 :Data;
      fd @48 :Int32;              # -1 for chmod by path
      mode @49 :UInt32;
      ret @50 :Int64;
    }
    netConnect :group {
      fd @51 :Int32;
      family @52 :UInt16;         # AF_INET (2) or AF_INET6 (10); AF_UNIX (1) with path in addr
      addr @53 :Data;             # 4 or 16 address bytes in network order (AF_UNIX: path)
      port @54 :UInt16;           # host order
      ret @55 :Int64;             # 0, or -errno (-EINPROGRESS for non-blocking)
    }
    tls :group {
      direction @56 :TlsDirection;
      conn @57 :UInt64;           # connection id, stable per SSL* within a session
      offset @58 :UInt64;         # byte offset of data[0] within this connection and direction
      data @59 :Data;             # captured plaintext (a chunk of one SSL call)
      length @60 :UInt64;         # bytes the SSL call moved in total (>= data size)
      truncated @61 :Bool;        # bytes of this call were not captured (--max-tls-bytes)
      lib @62 :Data;              # path of the library or executable whose SSL_* was hooked
      fd @63 :Int32;              # socket fd learned from the syscall under SSL_*, -1 unknown
      func @64 :Text;             # SSL_write, SSL_write_ex, SSL_read or SSL_read_ex;
                                  # with plain: the syscall (write, sendto, readv, ...)
      plain @84 :Bool;            # taken from the socket's own reads and writes: the
                                  # connection is not encrypted (plain HTTP); lib is empty
    }
    lost :group {
      count @65 :UInt64;          # records the kernel could not reserve since the last report
      probe @66 :Text;            # which probe lost them
    }
    symlink :group {              # reserved for the symlink probe
      target @67 :Data;           # link contents as passed
      path @68 :Data;             # absolute path of the new link
      ret @69 :Int64;
    }
    chdir :group {
      path @70 :Data;             # new absolute working directory
      ret @71 :Int64;
    }
    link :group {                 # a hard link: link(2), linkat(2)
      oldPath @72 :Data;          # absolute path of the existing file
      newPath @73 :Data;          # absolute path of the new name
      flags @74 :UInt32;          # linkat flags (AT_SYMLINK_FOLLOW 0x400, AT_EMPTY_PATH 0x1000)
      ret @75 :Int64;             # 0 or -errno
    }
    fileChown :group {            # an ownership change: chown, fchown, lchown, fchownat
      path @78 :Data;             # absolute path (fchown: the fd's file)
      fd @79 :Int32;              # -1 for a change by path
      uid @80 :Int64;             # new owner as passed; -1: unchanged
      gid @81 :Int64;             # new group as passed; -1: unchanged
      flags @82 :UInt32;          # fchownat flags (AT_SYMLINK_NOFOLLOW 0x100, AT_EMPTY_PATH
                                  # 0x1000); lchown is AT_SYMLINK_NOFOLLOW
      ret @83 :Int64;             # 0 or -errno
    }
  }
  pathTruncated @76 :Bool;
    # a path of this event is incomplete: the kernel's walk up the directory tree was
    # cut at its bound (bpf/events.h AA_WALK_DEPTH components, AA_WALK_MAX bytes). Such
    # a path holds the components nearest the file and is relative (no leading '/'):
    # the directories above it are unknown. Every complete path is absolute.
}

# One frame's payload: a batch of events with consecutive sequence numbers.
struct Batch {
  events @0 :List(Event);
  header @1 :import "session.capnp".SessionHeader;
    # the first frame only: a copy of the file header (without its probe list), so a
    # reader whose file header is damaged still knows the session id, clocks and command
}
