//! CPU time of one function process, and Lambda's CPU share given to it as a CFS quota.
//!
//! With cgroup v1's `cpu` and `cpuacct` writable, every process gets a cgroup of its own in
//! both, joined between fork and exec (so nothing it runs is missed): `cpuacct.usage` counts
//! its CPU in ns, `cpu.cfs_quota_us` limits it. Without them, the CPU is the sum of its
//! threads' `/proc/<pid>/task/*/schedstat` run times, and no share can be given.

use std::ffi::CString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const CPU: &str = "/sys/fs/cgroup/cpu";
const CPUACCT: &str = "/sys/fs/cgroup/cpuacct";
/// Lambda gives one full vCPU at 1,769 MB and a share in proportion below it.
pub const FULL_VCPU_MB: u32 = 1769;
/// The CFS period of the quota (the one the measurements used).
const PERIOD_US: u64 = 20_000;

/// How much CPU a process gets, as Lambda gives it at a memory size.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Share {
    /// No quota: the whole machine.
    Full,
    /// The memory's share from the first `invocation/next` on; init at a full core.
    Boost(u32),
    /// The memory's share from exec on.
    NoBoost(u32),
}

impl Share {
    pub fn label(self) -> String {
        match self {
            Share::Full => "full core".into(),
            Share::Boost(mb) => format!("{mb} MB"),
            Share::NoBoost(mb) => format!("{mb} MB, no boost"),
        }
    }

    fn quota_us(mb: u32) -> u64 {
        (PERIOD_US * u64::from(mb) / u64::from(FULL_VCPU_MB)).max(1000)
    }
}

/// This run's cgroups, one pair per process under `halo-bench-<pid>`.
pub struct Cgroups {
    cpu: PathBuf,
    cpuacct: PathBuf,
    next: AtomicU64,
}

impl Cgroups {
    /// The run's parent cgroups, or why there are none.
    pub fn open() -> Result<Self, String> {
        let name = format!("halo-bench-{}", std::process::id());
        let (cpu, cpuacct) = (Path::new(CPU).join(&name), Path::new(CPUACCT).join(&name));
        let made = std::fs::create_dir_all(&cpu).and_then(|()| std::fs::create_dir_all(&cpuacct));
        if let Err(e) = made.and_then(|()| std::fs::write(cpu.join("cpu.cfs_quota_us"), "-1")) {
            let _ = (std::fs::remove_dir(&cpu), std::fs::remove_dir(&cpuacct));
            return Err(format!("cgroup v1 cpu/cpuacct not writable here ({CPU}/{name}: {e})"));
        }
        Ok(Self { cpu, cpuacct, next: AtomicU64::new(0) })
    }

    /// A new, empty pair of cgroups for one process.
    pub fn slot(&self) -> io::Result<Slot> {
        let n = self.next.fetch_add(1, Ordering::Relaxed).to_string();
        let (cpu, cpuacct) = (self.cpu.join(&n), self.cpuacct.join(&n));
        std::fs::create_dir(&cpu)?;
        std::fs::create_dir(&cpuacct)?;
        let procs = |dir: &Path| CString::new(dir.join("cgroup.procs").into_os_string().into_encoded_bytes());
        let procs = [procs(&cpu)?, procs(&cpuacct)?];
        std::fs::write(cpu.join("cpu.cfs_period_us"), PERIOD_US.to_string())?;
        Ok(Slot { cpu, cpuacct, procs })
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        let _ = (std::fs::remove_dir(&self.cpu), std::fs::remove_dir(&self.cpuacct));
    }
}

/// One process's cgroups; removed on drop (after the process has been reaped).
pub struct Slot {
    cpu: PathBuf,
    cpuacct: PathBuf,
    procs: [CString; 2],
}

impl Slot {
    /// Limits the cgroup to `mb`'s share of one CPU.
    pub fn throttle(&self, mb: u32) -> io::Result<()> {
        std::fs::write(self.cpu.join("cpu.cfs_quota_us"), Share::quota_us(mb).to_string())
    }

    /// A closure that puts the calling process into both cgroups: run between fork and exec,
    /// so it only makes system calls on memory prepared before the fork.
    pub fn joiner(&self) -> impl FnMut() -> io::Result<()> + Send + Sync + 'static {
        let procs = self.procs.clone();
        move || {
            for path in &procs {
                join(path)?;
            }
            Ok(())
        }
    }

    /// CPU time the cgroup's processes have used.
    pub fn usage(&self) -> io::Result<Duration> {
        let text = std::fs::read_to_string(self.cpuacct.join("cpuacct.usage"))?;
        text.trim().parse().map(Duration::from_nanos).map_err(io::Error::other)
    }

    /// The path whose write throttles the cgroup (for the emulator's first-poll hook).
    pub fn quota_file(&self) -> PathBuf {
        self.cpu.join("cpu.cfs_quota_us")
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let _ = (std::fs::remove_dir(&self.cpu), std::fs::remove_dir(&self.cpuacct));
    }
}

/// Writes "0" (the writing process) to a cgroup v1 `cgroup.procs`.
fn join(procs: &CString) -> io::Result<()> {
    // SAFETY: plain system calls on a C string made before the fork; no allocation.
    unsafe {
        let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let written = libc::write(fd, b"0".as_ptr().cast(), 1);
        libc::close(fd);
        if written != 1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The quota a `Share::Boost(mb)` process gets when it first polls.
pub fn quota_text(mb: u32) -> String {
    Share::quota_us(mb).to_string()
}

/// CPU time of all live threads of `pid` (ns counters of `/proc/<pid>/task/*/schedstat`).
pub fn schedstat(pid: u32) -> io::Result<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let text = std::fs::read_to_string(task?.path().join("schedstat"))?;
        total += text.split_whitespace().next().and_then(|ns| ns.parse::<u64>().ok()).unwrap_or(0);
    }
    Ok(Duration::from_nanos(total))
}
