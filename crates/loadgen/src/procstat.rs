//! CPU time and memory of processes, from Linux's `/proc`: `/proc/PID/stat`
//! (user and system time, in clock ticks of 1/100 s: Linux reports them in
//! USER_HZ, which is 100 on every architecture it exposes to user space),
//! `/proc/PID/status` (VmRSS, VmHWM: the peak resident set; Threads), and
//! `/proc/stat` for the whole machine (user, system, interrupts, steal, idle).

use anyhow::{Context, bail};

/// Clock ticks per second in `/proc` (USER_HZ).
const TICKS_PER_SEC: f64 = 100.0;

/// One reading of a process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reading {
    /// User plus system time, in seconds.
    pub cpu_secs: f64,
    pub rss_kib: u64,
    pub hwm_kib: u64,
    pub threads: u64,
}

/// Refuses a `--platform-pid` that names no process.
pub fn check_pid(pid: u32) -> anyhow::Result<()> {
    if !std::path::Path::new(&format!("/proc/{pid}/stat")).exists() {
        bail!("--platform-pid {pid}: no such process");
    }
    Ok(())
}

/// Reads process `pid`, or this process with `None`.
pub fn read(pid: Option<u32>) -> anyhow::Result<Reading> {
    let dir = match pid {
        Some(pid) => format!("/proc/{pid}"),
        None => "/proc/self".to_owned(),
    };
    let stat = std::fs::read_to_string(format!("{dir}/stat"))
        .with_context(|| format!("reading {dir}/stat (has the process ended?)"))?;
    // The command name may hold spaces and parentheses: fields start
    // after its closing one. utime and stime are fields 14 and 15 of the
    // whole line, so 12th and 13th after the name.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("a /proc stat line without the command name")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let tick = |i: usize| -> anyhow::Result<u64> {
        fields
            .get(i)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("{dir}/stat: field {} unreadable", i + 3))
    };
    let cpu_secs = (tick(11)? + tick(12)?) as f64 / TICKS_PER_SEC;
    let status = std::fs::read_to_string(format!("{dir}/status"))
        .with_context(|| format!("reading {dir}/status"))?;
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Ok(Reading {
        cpu_secs,
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
        threads: field("Threads:"),
    })
}

/// The CPU time so far, in seconds, of every process whose command name is
/// `name` (e.g. `postgres`: its server and one backend per connection);
/// processes that ended in between are not counted.
pub fn by_name(name: &str) -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    let mut ticks = 0u64;
    for entry in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if &stat[open + 1..close] != name {
            continue;
        }
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let tick = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        ticks += tick(11) + tick(12);
    }
    ticks as f64 / TICKS_PER_SEC
}

/// The whole machine's CPU time so far, in ticks, from the first line of
/// `/proc/stat`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Machine {
    /// user + nice.
    pub user: u64,
    pub system: u64,
    /// irq + softirq: on loopback, much of the network's work.
    pub irq: u64,
    /// Time the hypervisor gave to other machines sharing these cores.
    pub steal: u64,
    /// idle + iowait.
    pub idle: u64,
}

impl Machine {
    pub fn total(&self) -> u64 {
        self.user + self.system + self.irq + self.steal + self.idle
    }
}

pub fn machine() -> anyhow::Result<Machine> {
    let stat = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    let line = stat.lines().next().context("an empty /proc/stat")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let at = |i: usize| v.get(i).copied().unwrap_or(0);
    Ok(Machine {
        user: at(0) + at(1),
        system: at(2),
        idle: at(3) + at(4),
        irq: at(5) + at(6),
        steal: at(7),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_reads() {
        let r = read(None).unwrap();
        assert!(r.rss_kib > 0 && r.hwm_kib >= r.rss_kib && r.threads >= 1);
        let m = machine().unwrap();
        assert!(m.total() > 0 && m.idle <= m.total());
        assert!(check_pid(u32::MAX).is_err());
    }
}
