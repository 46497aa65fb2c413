from label_ceiling import answer_kind, consistency, effective_usage, reach


def doc(id_, agreement, effective, reachable):
    candidates = [{'iso': '2020-01-01', 'gold': ['AGREEMENT_DATE'] + (['EFFECTIVE_DATE'] if reachable else [])}]
    return {'id': id_, 'split': 'train', 'gold': {'AGREEMENT_DATE': agreement, 'EFFECTIVE_DATE': effective}, 'candidates': candidates}


def test_effective_usage_reads_where_and_how_the_word_is_used():
    assert effective_usage('This Agreement is made effective as of May 1, 2020.') == 'preamble'
    filler = 'x ' * 1500
    assert effective_usage(filler + 'on the date hereof (the "Effective Date")') == 'defined'
    assert effective_usage(filler + 'shall become effective upon signature') == 'phrase'
    assert effective_usage(filler + 'post-effective amendments') == 'incidental'
    assert effective_usage(filler) == 'absent'


def test_answer_kind():
    assert answer_kind(doc('a', ['2020-01-01'], [], False)) == 'empty'
    assert answer_kind(doc('a', ['2020-01-01'], ['2020-01-01'], True)) == 'agreement_date'
    assert answer_kind(doc('a', ['2020-01-01'], ['2021-01-01'], False)) == 'other_date'
    assert answer_kind(doc('a', [], ['text:upon approval'], False)) == 'text'


def test_reach_counts_contracts_whose_answer_is_a_candidate():
    docs = [doc('a', ['2020-01-01'], ['2020-01-01'], True), doc('b', ['2020-01-01'], ['2021-01-01', '2022-01-01'], False)]
    r = reach(docs, 'EFFECTIVE_DATE')
    assert (r['gold_values'], r['contracts_reachable'], r['contracts_with_two_or_more']) == (3, 1, 1)
    assert r['ceiling_f1'] == round(2 * 1 / (1 + 3), 4)


def test_consistency_loses_the_minority_of_a_group_annotated_both_ways():
    # Three preamble contracts: two answered with the agreement date, one left empty. The fixed answer
    # of the group is the agreement date, so the empty one is answered wrongly; the two are right.
    docs = [doc('a', ['2020-01-01'], ['2020-01-01'], True), doc('b', ['2020-01-01'], ['2020-01-01'], True),
            doc('c', ['2020-01-01'], [], False)]
    texts = {k: 'made effective as of January 1, 2020' for k in 'abc'}
    out = consistency(docs, texts)
    assert out['groups']['preamble']['fixed_answer'] == 'agreement date'
    assert out['wrong_by_fixed_answer'] == {'answered_where_empty': 1, 'silent_where_agreement_date': 0}
    assert out['ceiling_f1'] == round(2 * 2 / (3 + 2), 4)
