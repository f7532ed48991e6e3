//! The few system calls std does not offer, each behind a safe function. With
//! [`crate::clang`], the only module with `unsafe`.

/// Lowers this process's CPU priority to the least: the idle scheduling class
/// (`SCHED_IDLE`: it runs only on a processor nothing else wants), and nice 19 where
/// that class is not available. Its children inherit both.
pub fn lowest_priority() {
    // SAFETY: nice(2) takes an integer and sched_setscheduler(2) a pid (0: this
    // process) and a parameter that outlives the call; each changes only this
    // process's scheduling.
    unsafe {
        libc::nice(19);
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
    }
}

/// Keeps the memory this process's heap once held, for the next parse: each parse
/// allocates much the same hundreds of megabytes, which the C library would otherwise
/// hand back to the kernel when the unit is freed, and the next parse would fault in
/// again, page by page (about a tenth of an indexer's processor time goes to the
/// kernel). For a process that parses unit after unit while there are units to
/// parse ([`release_heap`] when there are none).
pub fn keep_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt(3) takes two integers and changes only how this process's
    // allocator gets and returns memory, in every thread's arena; called before the
    // first parse.
    unsafe {
        // Large blocks from the heap, not from mappings of their own (the most the C
        // library allows: 32 MB)...
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        // ...which keeps what was freed at its top. The padding is what keeps a
        // thread's heap (the parses run on one) whole once it is emptied: the C
        // library unmaps one left with less.
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

/// Hands back to the kernel the memory [`keep_heap`] kept, in every arena: for a
/// process that waits for work.
pub fn release_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim(3) takes an integer and only returns free memory.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Whether standard input has something to read, or has ended, within `wait`.
pub fn input_within(wait: std::time::Duration) -> bool {
    let mut fd = libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: poll(2) reads and writes the one descriptor entry it is given, which
    // outlives the call.
    unsafe { libc::poll(&mut fd, 1, ms) != 0 }
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

/// Ends this process at once with `code`, whatever its other threads are doing (a
/// worker whose parent is gone, maybe in the middle of a parse).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit(2) takes an integer and does not return.
    unsafe { libc::_exit(code) }
}

/// A descriptor for what standard output was, which from now on goes to /dev/null:
/// a channel nothing else in the process writes to by accident.
pub fn take_stdout() -> std::io::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    let kept = std::os::fd::AsFd::as_fd(&std::io::stdout()).try_clone_to_owned()?;
    let null = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
    // SAFETY: dup2(2) on two descriptors this process holds open; descriptor 1 is
    // replaced, not closed, so nothing that refers to it is left dangling.
    if unsafe { libc::dup2(null.as_raw_fd(), 1) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(std::fs::File::from(kept))
}

/// What `/proc/PID/stat` says of a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcStat {
    /// `R`, `S`, `Z` (a zombie), ...
    pub state: char,
    /// Processor time used so far, user and system, every thread.
    pub cpu: std::time::Duration,
    /// When it started, in clock ticks since boot: with the pid, a name no other
    /// process will have.
    pub start: u64,
}

/// How long since the machine booted, in the clock ticks of [`ProcStat::start`].
pub fn uptime_ticks() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/uptime").ok()?;
    let seconds: f64 = text.split_whitespace().next()?.parse().ok()?;
    // USER_HZ, as for the processor times below.
    Some((seconds * 100.0) as u64)
}

/// The state, processor time and start time of process `pid`, if it exists.
pub fn proc_stat(pid: u32) -> Option<ProcStat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Parses a `/proc/PID/stat` line. The command name may hold spaces and parentheses:
/// the fields start after its last `)`.
fn parse_stat(stat: &str) -> Option<ProcStat> {
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the name: state is field 3 of proc(5), utime 14, stime 15, starttime 22.
    let field = |n: usize| fields.get(n - 3).copied();
    let ticks: u64 = field(14)?.parse::<u64>().ok()? + field(15)?.parse::<u64>().ok()?;
    Some(ProcStat {
        state: field(3)?.chars().next()?,
        // /proc counts in USER_HZ, which is 100 on Linux.
        cpu: std::time::Duration::from_millis(ticks * 10),
        start: field(22)?.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names_are_read() {
        let line =
            "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 1 0 987654 0 0";
        assert_eq!(
            parse_stat(line),
            Some(ProcStat {
                state: 'S',
                cpu: std::time::Duration::from_millis(2800),
                start: 987654,
            })
        );
        let me = proc_stat(std::process::id()).expect("this process");
        assert_ne!(me.state, 'Z');
    }
}
