//! What Linux says about running processes (`/proc`): process trees and
//! groups, start times on the boot clock and memory, for the desktop
//! benchmark and the tests of the installed package.

use std::collections::HashMap;

use anyhow::Context;

/// Clock ticks per second in `/proc/PID/stat` (USER_HZ, fixed at 100 by the
/// Linux ABI on every architecture we build for).
const TICKS_PER_SECOND: f64 = 100.0;

/// `/proc/PID/stat` split after the command name (which may hold spaces and
/// parentheses): field 3 (state) comes first.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// `root` and every process descended from it, `root` first.
pub fn tree(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // Field 4, the parent: index 1 after the command name.
        if let Some(parent) = stat_fields(pid).and_then(|f| f.get(1)?.parse::<u32>().ok()) {
            children.entry(parent).or_default().push(pid);
        }
    }
    let mut all = vec![root];
    let mut next = 0;
    while let Some(&pid) = all.get(next) {
        all.extend(children.get(&pid).into_iter().flatten());
        next += 1;
    }
    all
}

/// Every process in process group `group`, lowest id first. A process the
/// app starts itself (its restart after an update) leaves the process tree
/// when its parent exits, but stays in the group.
pub fn group(group: u32) -> Vec<u32> {
    let mut members: Vec<u32> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        // Field 5, the process group: index 2 after the command name.
        .filter(|&pid| stat_fields(pid).and_then(|f| f.get(2)?.parse::<u32>().ok()) == Some(group))
        .collect();
    members.sort_unstable();
    members
}

/// The file the process runs, as the kernel names it: a path that ends in
/// ` (deleted)` when the file was replaced after the process started.
pub fn exe(pid: u32) -> Option<std::path::PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

/// The process's command name (`comm`, at most 15 bytes).
pub fn name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|n| n.trim().to_owned())
        .unwrap_or_else(|_| format!("pid {pid}"))
}

/// Seconds since boot on the boot clock (10 ms resolution).
pub fn uptime() -> anyhow::Result<f64> {
    let text = std::fs::read_to_string("/proc/uptime")?;
    text.split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .context("unreadable /proc/uptime")
}

/// When the process started, in seconds since boot on the same clock as
/// [`uptime`] (10 ms resolution).
pub fn started_at(pid: u32) -> anyhow::Result<f64> {
    // Field 22, starttime: index 19 after the command name.
    let ticks: u64 = stat_fields(pid)
        .and_then(|f| f.get(19)?.parse().ok())
        .with_context(|| format!("no start time for process {pid}"))?;
    Ok(ticks as f64 / TICKS_PER_SECOND)
}

/// Memory of one process, in KiB, from `/proc/PID/smaps_rollup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    pub pid: u32,
    pub name: String,
    /// Proportional set size: private pages plus a fair share of shared
    /// ones, so the figures of several processes add up.
    pub pss_kib: u64,
    /// Resident set size: every resident page, shared ones counted in full.
    pub rss_kib: u64,
    /// Private pages only (USS: `Private_Clean` + `Private_Dirty`): what
    /// the process alone holds, whatever other processes map the same
    /// libraries (they change Pss, not this).
    pub private_kib: u64,
}

/// The memory of `pid`, or `None` if it is gone (or a kernel thread).
pub fn memory(pid: u32) -> Option<Memory> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |label: &str| {
        rollup.lines().find_map(|line| {
            line.strip_prefix(label)?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
    };
    Some(Memory {
        pid,
        name: name(pid),
        pss_kib: field("Pss:")?,
        rss_kib: field("Rss:")?,
        private_kib: field("Private_Clean:")? + field("Private_Dirty:")?,
    })
}

/// The memory of `root` and all its descendants, `root` first.
pub fn tree_memory(root: u32) -> Vec<Memory> {
    tree(root).into_iter().filter_map(memory).collect()
}

/// The value of `variable` in the environment process `pid` started with
/// (`/proc/PID/environ`), if it has it.
pub fn environment(pid: u32, variable: &str) -> Option<String> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let prefix = format!("{variable}=");
    environ
        .split(|b| *b == 0)
        .find_map(|entry| entry.strip_prefix(prefix.as_bytes()))
        .map(|value| String::from_utf8_lossy(value).into_owned())
}
