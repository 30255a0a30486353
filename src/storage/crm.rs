//! CRM mappings in D1.

use serde::Deserialize;
use worker::D1Database;

use super::{execute, first, Result, StorageError};
use crate::domain::conversions::amocrm::AmoMapping;

const UPSERT: &str = "INSERT INTO amocrm_mappings (program_id, mapping, created_at, updated_at) \
     VALUES (?1, ?2, ?3, ?3) ON CONFLICT (program_id) DO UPDATE SET mapping = ?2, updated_at = ?3";
const BY_PROGRAM: &str = "SELECT mapping FROM amocrm_mappings WHERE program_id = ?";

#[derive(Deserialize)]
struct MappingRow {
    mapping: String,
}

pub async fn save_amocrm(
    db: &D1Database,
    program_id: &str,
    mapping: &AmoMapping,
    now: i64,
) -> Result<()> {
    let json = serde_json::to_string(mapping)
        .map_err(|e| StorageError::Failed(format!("encoding the AmoCRM mapping: {e}")))?;
    execute(
        db,
        UPSERT,
        &[program_id.into(), json.as_str().into(), now.into()],
    )
    .await
    .map(drop)
}

pub async fn amocrm(db: &D1Database, program_id: &str) -> Result<Option<AmoMapping>> {
    let row: Option<MappingRow> = first(db, BY_PROGRAM, &[program_id.into()]).await?;
    Ok(row.and_then(|row| serde_json::from_str(&row.mapping).ok()))
}
