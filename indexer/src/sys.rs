//! The few system calls std does not offer, each behind a safe function. With
//! [`crate::clang`], the only module with `unsafe`.

/// Lowers this process's CPU priority to the least (nice 19); its children inherit it.
pub fn lowest_priority() {
    // SAFETY: nice(2) takes an integer and changes only this process's priority.
    unsafe {
        libc::nice(19);
    }
}

/// Closes every file descriptor but standard input, output and error. A process that
/// outlives the build must not hold the build's pipes, jobserver or lock files open:
/// whoever waits for their end (`make 3>&1 | tee`, `flock`) would wait for it too.
/// Call it before any other thread or file exists.
pub fn close_inherited_files() {
    let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .filter(|&fd| fd > 2)
                .collect()
        })
        .unwrap_or_default();
    for fd in fds {
        // SAFETY: closing a descriptor no Rust object owns (inherited ones, and the
        // directory listing's own, already closed: EBADF, harmless).
        unsafe {
            libc::close(fd);
        }
    }
}

/// Makes the kernel kill this process when its parent dies, so that an indexer never
/// outlives the wrapper or drainer that watches its time limit. Returns false when
/// the parent (`parent` is its pid) is already gone.
pub fn die_with_parent(parent: u32) -> bool {
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number; getppid cannot fail.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
        libc::getppid() as u32 == parent
    }
}
