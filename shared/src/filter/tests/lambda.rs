//! The Lambda developer guide's event-filtering examples and comparison table.

use serde_json::json;

use super::*;

// ---- https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html ------------

#[test]
fn lambda_event_filtering_examples() {
    let kinesis = json!({
        "partitionKey": "1",
        "data": {"City": "Seattle", "State": "WA", "Temperature": 46, "Location": "Los Angeles"}
    });
    matches(
        json!({"partitionKey": ["1"], "data": {"Location": ["Los Angeles"]}}),
        kinesis.clone(),
    );
    misses(
        json!({"partitionKey": ["2"], "data": {"Location": ["Los Angeles"]}}),
        kinesis,
    );
    let dynamodb = json!({"dynamodb": {
        "Keys": {"Id": {"N": "101"}},
        "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
        "SequenceNumber": "111", "SizeBytes": 26, "StreamViewType": "NEW_AND_OLD_IMAGES"
    }});
    matches(json!({"dynamodb": {"Keys": {"Id": {"N": ["101"]}}}}), dynamodb.clone());
    misses(json!({"dynamodb": {"Keys": {"Id": {"N": [101]}}}}), dynamodb);
    // The console example `{ "a" : [ 1, 2 ] }`.
    matches(json!({"a": [1, 2]}), json!({"a": 2}));
    misses(json!({"a": [1, 2]}), json!({"a": 3}));
    // The comparison table rows not covered elsewhere.
    matches(json!({"UserID": [null]}), json!({"UserID": null}));
    matches(json!({"LastName": [""]}), json!({"LastName": ""}));
    misses(json!({"LastName": [""]}), json!({"LastName": null}));
    matches(
        json!({"PaymentType": ["Credit", "Debit"]}),
        json!({"PaymentType": "Debit"}),
    );
    matches(
        json!({"Location": ["New York"], "Day": ["Monday"]}),
        json!({"Location": "New York", "Day": "Monday"}),
    );
    misses(
        json!({"Location": ["New York"], "Day": ["Monday"]}),
        json!({"Location": "New York", "Day": "Friday"}),
    );
    matches(json!({"Region": [{"prefix": "us-"}]}), json!({"Region": "us-west-2"}));
    matches(json!({"b": [true]}), json!({"b": true}));
    misses(json!({"b": [true]}), json!({"b": "true"}));
}
