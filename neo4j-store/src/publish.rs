//! Writing an analysis back as graph data, for Neo4j Browser and Bloom.
//!
//! An analysis is written under a new id (`Analysis {id}`; `ControlGroup {analysis}`,
//! `MEMBER_OF {analysis}`, `EVIDENCE {analysis}`; embeddings staged in
//! `Account.embedding_staged`) while the previous one stays as it was. One transaction then
//! flips the `:Current` label from the old `Analysis` and its groups to the new ones and moves
//! the staged embeddings into `Account.embedding`, so a reader sees either the old analysis or
//! the new one, never half of each. The old analysis is deleted afterwards in batches (readers
//! that filter on `:Current`, or on the current analysis id, no longer see it). A write that
//! fails before the flip leaves the previous analysis current; its leftovers are deleted by the
//! next publication.
//!
//! Queries for analysts filter on the label: `MATCH (g:ControlGroup:Current)`, and on the
//! current analysis id for evidence: `MATCH (n:Analysis:Current) MATCH (a)-[e:EVIDENCE
//! {analysis: n.id}]->(b)`.

use std::collections::HashMap;

use ingest::StoreError;
use ingest::store::AnalysisView;
use neo4rs::{BoltType, query};

use crate::{Neo4jStore, opt};

const GROUP_BATCH: usize = 1_000;
const ROW_BATCH: usize = 5_000;

type Map = HashMap<String, BoltType>;

fn strings(v: &[String]) -> BoltType {
    v.iter().map(String::as_str).collect::<Vec<_>>().into()
}

pub(crate) fn publish(store: &Neo4jStore, view: &AnalysisView<'_>) -> Result<(), StoreError> {
    // Ids sort by time, so cleaning up "older than this one" never touches a newer analysis.
    let aid = format!(
        "{:016}",
        chrono::Utc::now().timestamp_micros().max(0) as u64
    );
    store.run(
        query(
            "CREATE (:Analysis {id: $id, created_at: $created, status: 'writing', groups: $groups})",
        )
        .param("id", aid.as_str())
        .param("created", view.created_at)
        .param("groups", view.groups.len() as i64),
    )?;

    for chunk in view.groups.chunks(GROUP_BATCH) {
        let rows: Vec<BoltType> = chunk
            .iter()
            .map(|g| {
                let mut m = Map::new();
                m.insert("id".into(), g.id.into());
                m.insert("score".into(), f64::from(g.score).into());
                m.insert("status".into(), g.status.into());
                m.insert("criteria".into(), strings(g.criteria));
                m.insert("controller_id".into(), opt(g.controller_id));
                m.insert("reported_group".into(), opt(g.reported_group));
                m.insert("accounts".into(), strings(g.accounts));
                m.into()
            })
            .collect();
        store.run(
            query(
                "UNWIND $rows AS g \
                 CREATE (c:ControlGroup {analysis: $aid, id: g.id, score: g.score, status: g.status, \
                   criteria: g.criteria, controller_id: g.controller_id, \
                   reported_group: g.reported_group, size: size(g.accounts)}) \
                 WITH c, g UNWIND g.accounts AS acc \
                 MATCH (a:Account {key: acc}) \
                 CREATE (a)-[:MEMBER_OF {analysis: $aid}]->(c)",
            )
            .param("rows", rows)
            .param("aid", aid.as_str()),
        )?;
    }

    let evidence: Vec<BoltType> = view
        .groups
        .iter()
        .flat_map(|g| g.evidence.iter().map(move |e| (g.id, e)))
        .map(|(group, e)| {
            let mut m = Map::new();
            m.insert("a".into(), e.a.into());
            m.insert("b".into(), e.b.into());
            m.insert("group".into(), group.into());
            m.insert("criterion".into(), e.criterion.into());
            m.insert("kind".into(), e.kind.into());
            m.insert("weight".into(), f64::from(e.weight).into());
            m.insert("link_weight".into(), f64::from(e.link_weight).into());
            m.insert("description".into(), e.description.into());
            m.into()
        })
        .collect();
    for chunk in evidence.chunks(ROW_BATCH) {
        store.run(
            query(
                "UNWIND $rows AS e \
                 MATCH (a:Account {key: e.a}) MATCH (b:Account {key: e.b}) \
                 CREATE (a)-[:EVIDENCE {analysis: $aid, group: e.group, criterion: e.criterion, \
                   kind: e.kind, weight: e.weight, link_weight: e.link_weight, \
                   description: e.description}]->(b)",
            )
            .param("rows", chunk.to_vec())
            .param("aid", aid.as_str()),
        )?;
    }

    for chunk in view.embeddings.chunks(ROW_BATCH) {
        let rows: Vec<BoltType> = chunk
            .iter()
            .map(|(id, v)| {
                let mut m = Map::new();
                m.insert("id".into(), (*id).into());
                m.insert(
                    "v".into(),
                    v.iter().map(|x| f64::from(*x)).collect::<Vec<_>>().into(),
                );
                m.into()
            })
            .collect();
        store.run(
            query(
                "UNWIND $rows AS r MATCH (a:Account {key: r.id}) \
                 SET a.embedding_staged = r.v, a.embedding_staged_analysis = $aid",
            )
            .param("rows", rows)
            .param("aid", aid.as_str()),
        )?;
    }

    // The flip: one transaction.
    let now = chrono::Utc::now().to_rfc3339();
    store.transaction(vec![
        query("MATCH (old:Analysis:Current) REMOVE old:Current SET old.status = 'superseded'"),
        query("MATCH (g:ControlGroup:Current) REMOVE g:Current"),
        query("MATCH (n:Analysis {id: $aid}) SET n:Current, n.status = 'current', n.published_at = $now")
            .param("aid", aid.as_str())
            .param("now", now.as_str()),
        query("MATCH (g:ControlGroup {analysis: $aid}) SET g:Current").param("aid", aid.as_str()),
        query(
            "MATCH (a:Account) WHERE a.embedding_analysis IS NOT NULL \
             AND (a.embedding_staged_analysis IS NULL OR a.embedding_staged_analysis <> $aid) \
             REMOVE a.embedding, a.embedding_analysis",
        )
        .param("aid", aid.as_str()),
        query(
            "MATCH (a:Account) WHERE a.embedding_staged_analysis = $aid \
             SET a.embedding = a.embedding_staged, a.embedding_analysis = $aid",
        )
        .param("aid", aid.as_str()),
    ])?;
    tracing::info!(analysis = %aid, groups = view.groups.len(), "analysis published to Neo4j");

    // Clean-up of older analyses, in batches; invisible to readers of the current one.
    for q in [
        "MATCH (g:ControlGroup) WHERE g.analysis < $aid \
         CALL { WITH g DETACH DELETE g } IN TRANSACTIONS OF 2000 ROWS",
        "MATCH ()-[e:EVIDENCE]->() WHERE e.analysis < $aid \
         CALL { WITH e DELETE e } IN TRANSACTIONS OF 10000 ROWS",
        "MATCH (a:Account) WHERE a.embedding_staged_analysis IS NOT NULL \
         AND a.embedding_staged_analysis <= $aid \
         CALL { WITH a REMOVE a.embedding_staged, a.embedding_staged_analysis } IN TRANSACTIONS OF 10000 ROWS",
        "MATCH (n:Analysis) WHERE n.id < $aid DELETE n",
    ] {
        store.run(query(q).param("aid", aid.as_str()))?;
    }
    Ok(())
}
