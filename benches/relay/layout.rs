//! Whether a Linux build of mcpgw has its startup path packed in front of the rest
//! of its code (build.rs): the idle RSS rows depend on it.

use std::path::Path;

use anyhow::{Context, ensure};

/// The section build.rs's linker script adds.
pub const STARTUP_PATH: &str = ".text.startup_path";

/// The size of the ELF section `name` in `binary`, or `None` if it has none.
pub fn section_size(binary: &Path, name: &str) -> anyhow::Result<Option<u64>> {
    let elf = std::fs::read(binary).with_context(|| format!("cannot read {}", binary.display()))?;
    ensure!(
        elf.starts_with(b"\x7fELF\x02\x01"),
        "{} is not a 64-bit little-endian ELF file",
        binary.display()
    );
    let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) as usize;
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap());
    let (table, entry, count, names) = (
        u64_at(0x28) as usize,
        u16_at(0x3a),
        u16_at(0x3c),
        u16_at(0x3e),
    );
    ensure!(
        table + entry * count <= elf.len() && names < count,
        "{} has a broken section table",
        binary.display()
    );
    let header = |index: usize| table + index * entry;
    let strings = u64_at(header(names) + 0x18) as usize;
    for index in 0..count {
        let name_at = strings + u32_at(header(index));
        let Some(rest) = elf.get(name_at..) else {
            anyhow::bail!("{} has a broken section name table", binary.display());
        };
        let section = rest.split(|&b| b == 0).next().unwrap_or_default();
        if section == name.as_bytes() {
            return Ok(Some(u64_at(header(index) + 0x20)));
        }
    }
    Ok(None)
}
